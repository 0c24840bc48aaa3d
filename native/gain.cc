#include <algorithm>
#include <memory>
#include <vector>

#include "kernels.h"
#include "sort.h"

namespace nasrank {

void count_reaching(const double* values, size_t n, const double* targets, size_t t,
                    bool higher_is_better, double* counts) {
  std::vector<double> sorted(values, values + n);
  std::sort(sorted.begin(), sorted.end());
  for (size_t k = 0; k < t; ++k) {
    const double j = targets[k];
    size_t m = higher_is_better
                   ? static_cast<size_t>(sorted.end() - std::lower_bound(sorted.begin(), sorted.end(), j))
                   : static_cast<size_t>(std::upper_bound(sorted.begin(), sorted.end(), j) - sorted.begin());
    counts[k] = static_cast<double>(m);
  }
}

bool is_sub_multiset(const double* sub, size_t m, const double* super, size_t n, size_t* missing) {
  std::unique_ptr<uint32_t[]> order(new uint32_t[m]);
  argsort(sub, m, order.get());
  std::vector<uint64_t> pool(n);
  for (size_t i = 0; i < n; ++i) pool[i] = sortable_key(super[i]);
  std::sort(pool.begin(), pool.end());
  size_t j = 0;
  for (size_t k = 0; k < m; ++k) {
    const uint64_t key = sortable_key(sub[order[k]]);
    while (j < n && pool[j] < key) ++j;
    if (j == n || pool[j] != key) {
      *missing = order[k];
      return false;
    }
    ++j;  // each occurrence in super covers one occurrence in sub
  }
  return true;
}

}  // namespace nasrank
