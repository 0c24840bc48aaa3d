#include <cmath>

#include "kernels.h"

namespace nasrank {

double pairwise_log_loss(const double* a, const double* b, const double* label, size_t n,
                         double* grad_a, double* grad_b) {
  double total = 0;
  for (size_t k = 0; k < n; ++k) {
    const double t = a[k] - b[k], y = label[k];
    // softplus(t) - y t, split by sign so that neither exp overflows nor 0 * inf appears:
    // t >= 0: (1 - y) t + log1p(e^-t);  t < 0: -y t + log1p(e^t).
    const double e = std::exp(-std::fabs(t));
    const double linear_coef = t >= 0 ? 1.0 - y : -y;
    total += (linear_coef == 0 ? 0.0 : linear_coef * t) + std::log1p(e);
    const double sigmoid = t >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    grad_a[k] = sigmoid - y;
    grad_b[k] = y - sigmoid;
  }
  return total;
}

}  // namespace nasrank
