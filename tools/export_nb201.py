#!/usr/bin/env python3
"""Export NAS-Bench-201 / NATS-Bench (topology) results to nasrank's table format.

The official benchmark files are PyTorch pickles, which nasrank does not read. Run this
script once, with the official API installed, to write plain tables that nasrank (and
pandas, polars, spreadsheets) can load:

    pip install nats_bench          # or: pip install nas-bench-201
    python tools/export_nb201.py --benchmark $TORCH_HOME/NATS-tss-v1_0-3ffb9-simple \\
        --out-dir data/ --datasets cifar10,cifar10-valid,cifar100,ImageNet16-120 --hp 200

    # NAS-Bench-201 v1.0/v1.1 file with the nas_201_api package:
    python tools/export_nb201.py --api nas201 --benchmark NAS-Bench-201-v1_1-096897.pth

It writes one file per dataset, `nb201-<dataset>-hp<hp>.csv` (and `.arrow` with
--format arrow|both, which needs pyarrow). Table format (docs/nb201-table.md):

    index            official API index of the architecture (0..15624)
    arch             the official string, |op~0|+|op~0|op~1|+|op~0|op~1|op~2|
    dataset          the dataset the metrics are for
    train_accuracy   %, after the last epoch, mean over the trained seeds
    train_loss
    val_accuracy     % on the validation split (absent for 'cifar10', which trains on train+valid)
    val_loss
    test_accuracy    %
    test_loss
    params           parameters, in millions (get_cost_info 'params', MB)
    flops            FLOPs, in millions
    latency          seconds per batch as measured by the benchmark authors
    train_time       seconds of training (all epochs), mean over seeds

The val/test semantics are the NAS-Bench-201 paper's search protocol (Sec. 5), one file per
dataset:
    cifar10    val_accuracy / val_loss: the 'cifar10-valid' run (trained on the train half,
               evaluated on the valid half: 'x-valid'); test_accuracy / test_loss: the
               'cifar10' run (trained on train+valid, evaluated on the test set: 'ori-test');
               train_time: the 'cifar10-valid' run (the one a search pays for). This is the
               pairing the paper reports (optima 91.61 val / 94.37 test at hp 200).
    cifar10-valid  val: 'x-valid', test: 'ori-test' of the same run (the API's own pairing)
    cifar100, ImageNet16-120  val: 'x-valid', test: 'x-test' (the two halves of the test set)

Every value is a finite number. A metric that is missing for any architecture is left out
of that dataset's file (the script says so), because nasrank tables have no missing values.
`--columns` restricts the output, e.g. `--columns index,arch,test_accuracy --no-dataset-column`
reproduces the shape of a single-metric export.

`python tools/export_nb201.py --self-test DIR` exercises the export against a small fake API
(no benchmark file needed) and writes its tables to DIR; nasrank's tests use it.
"""
import argparse
import csv
import math
import os
import sys
import tempfile

ALL_COLUMNS = ['index', 'arch', 'dataset', 'train_accuracy', 'train_loss', 'val_accuracy', 'val_loss',
               'test_accuracy', 'test_loss', 'params', 'flops', 'latency', 'train_time']

# get_more_info key -> column
MORE_INFO = {
    'train-accuracy': 'train_accuracy',
    'train-loss': 'train_loss',
    'valid-accuracy': 'val_accuracy',
    'valid-loss': 'val_loss',
    'test-accuracy': 'test_accuracy',
    'test-loss': 'test_loss',
    'train-all-time': 'train_time',
}
COST_INFO = {'params': 'params', 'flops': 'flops', 'latency': 'latency'}


def create_api(kind, benchmark):
    """The official API object for `benchmark` (a file or a NATS directory)."""
    if kind in ('auto', 'nats'):
        try:
            from nats_bench import create  # type: ignore
            return create(benchmark, 'tss', fast_mode=True, verbose=False)
        except ImportError:
            if kind == 'nats':
                raise SystemExit('export_nb201: the nats_bench package is not installed (pip install nats_bench)')
    try:
        from nas_201_api import NASBench201API  # type: ignore
    except ImportError:
        raise SystemExit('export_nb201: neither nats_bench nor nas_201_api is installed '
                         '(pip install nats_bench, or pip install nas-bench-201)')
    return NASBench201API(benchmark, verbose=False)


def arch_string(api, index):
    if hasattr(api, 'arch'):
        return api.arch(index)
    return api.meta_archs[index]


def more_info(api, index, dataset, hp):
    """Mean over seeds of the metrics after the last epoch (all API versions)."""
    try:
        return api.get_more_info(index, dataset, iepoch=None, hp=hp, is_random=False)
    except TypeError:  # nas_201_api v1.0-1.3: use_12epochs_result instead of hp
        return api.get_more_info(index, dataset, iepoch=None, use_12epochs_result=(str(hp) == '12'), is_random=False)


def cost_info(api, index, dataset, hp):
    try:
        return api.get_cost_info(index, dataset, hp=hp)
    except TypeError:
        try:
            return api.get_cost_info(index, dataset, use_12epochs_result=(str(hp) == '12'))
        except TypeError:
            return api.get_cost_info(index, dataset)


def finite(v):
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def export_dataset(api, dataset, hp, columns, with_dataset, progress=True):
    """Rows (dicts) for one dataset and the list of columns every row has."""
    n = len(api)
    rows = []
    for index in range(n):
        row = {'index': index, 'arch': arch_string(api, index)}
        if with_dataset:
            row['dataset'] = dataset
        info = more_info(api, index, dataset, hp) or {}
        for key, col in MORE_INFO.items():
            row[col] = finite(info.get(key))
        if dataset == 'cifar10':
            # The paper's CIFAR-10 protocol: search on the cifar10-valid run's validation
            # accuracy, report the cifar10 (train+valid) run's test accuracy.
            valid = more_info(api, index, 'cifar10-valid', hp) or {}
            for key in ('valid-accuracy', 'valid-loss', 'train-all-time'):
                row[MORE_INFO[key]] = finite(valid.get(key))
        cost = cost_info(api, index, dataset, hp) or {}
        for key, col in COST_INFO.items():
            row[col] = finite(cost.get(key))
        rows.append(row)
        if progress and (index + 1) % 1000 == 0:
            print(f'  {dataset}: {index + 1}/{n}', file=sys.stderr)
    wanted = [c for c in ALL_COLUMNS if c in columns and (c != 'dataset' or with_dataset)]
    kept = []
    for c in wanted:
        missing = sum(1 for r in rows if r.get(c) is None)
        if missing == 0:
            kept.append(c)
        else:
            print(f'export_nb201: {dataset}: column {c} left out ({missing} of {n} architectures have no value)', file=sys.stderr)
    if 'arch' not in kept:
        raise SystemExit('export_nb201: no arch strings returned by the API')
    seen = set()
    for r in rows:
        if r['arch'] in seen:
            raise SystemExit(f"export_nb201: duplicate architecture {r['arch']}")
        seen.add(r['arch'])
    return rows, kept


def fmt(v):
    if isinstance(v, float):
        return repr(v)  # shortest round-trip form: full precision
    return str(v)


def write_atomic(path, write):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.tmp-', dir=d)
    try:
        with os.fdopen(fd, 'w', newline='', encoding='utf-8') as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_csv(path, rows, columns):
    def write(f):
        w = csv.writer(f, lineterminator='\n')
        w.writerow(columns)
        for r in rows:
            w.writerow([fmt(r[c]) for c in columns])
    write_atomic(path, write)


def write_arrow(path, rows, columns):
    try:
        import pyarrow as pa  # type: ignore
        import pyarrow.ipc  # type: ignore  # noqa: F401
    except ImportError:
        raise SystemExit('export_nb201: --format arrow needs pyarrow (pip install pyarrow); CSV works without it')
    data = {}
    for c in columns:
        values = [r[c] for r in rows]
        if c in ('arch', 'dataset'):
            data[c] = pa.array(values, type=pa.string())
        elif c == 'index':
            data[c] = pa.array(values, type=pa.int32())
        else:
            data[c] = pa.array(values, type=pa.float64())
    table = pa.table(data)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.tmp-', dir=d)
    os.close(fd)
    try:
        with pa.OSFile(tmp, 'wb') as sink:
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class FakeApi:
    """A tiny stand-in for the official API (--self-test): 25 architectures (ops on two
    edges vary, the rest fixed), deterministic metrics, no latency for one of them."""
    OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']

    def __init__(self):
        self.archs = []
        for a in self.OPS:
            for b in self.OPS:
                self.archs.append(f'|{a}~0|+|{b}~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|')

    def __len__(self):
        return len(self.archs)

    def arch(self, index):
        return self.archs[index]

    def get_more_info(self, index, dataset, iepoch=None, hp='12', is_random=True):
        assert is_random is False and iepoch is None
        base = 50 + index + (0 if dataset == 'cifar10' else 10)
        info = {'train-loss': 1.0 / (index + 1), 'train-accuracy': base + 0.5, 'train-all-time': 100.0 * (index + 1),
                'test-loss': 2.0 / (index + 1), 'test-accuracy': base + 0.25}
        if dataset != 'cifar10':
            info.update({'valid-loss': 1.5 / (index + 1), 'valid-accuracy': base + 1 / 3})
        return info

    def get_cost_info(self, index, dataset, hp='12'):
        return {'flops': 10.0 + index, 'params': 0.1 * (index + 1), 'latency': None if index == 3 else 0.01 * (index + 1)}


def main(argv=None):
    p = argparse.ArgumentParser(description='Export NAS-Bench-201 / NATS-Bench (tss) results to nasrank tables (CSV / Arrow).')
    p.add_argument('--benchmark', help='benchmark file (.pth) or NATS directory; default: the API\'s default under $TORCH_HOME')
    p.add_argument('--api', choices=['auto', 'nats', 'nas201'], default='auto', help='which official API package to use')
    p.add_argument('--datasets', default='cifar10,cifar10-valid,cifar100,ImageNet16-120')
    p.add_argument('--hp', default='200', help="training schedule: '200' (default) or '12' epochs")
    p.add_argument('--out-dir', default='.')
    p.add_argument('--format', choices=['csv', 'arrow', 'both'], default='csv')
    p.add_argument('--columns', default=','.join(ALL_COLUMNS), help='columns to write (arch is always written)')
    p.add_argument('--no-dataset-column', action='store_true', help='omit the dataset column (one dataset per file anyway)')
    p.add_argument('--self-test', metavar='DIR', help='export a fake 25-architecture API to DIR and exit')
    args = p.parse_args(argv)

    columns = set(c.strip() for c in args.columns.split(',') if c.strip()) | {'arch'}
    unknown = columns - set(ALL_COLUMNS)
    if unknown:
        p.error(f'unknown columns: {", ".join(sorted(unknown))} (known: {", ".join(ALL_COLUMNS)})')
    if args.self_test:
        api = FakeApi()
        out_dir = args.self_test
        datasets = ['cifar10', 'cifar100']
    else:
        api = create_api(args.api, args.benchmark)
        out_dir = args.out_dir
        datasets = [d.strip() for d in args.datasets.split(',') if d.strip()]
    os.makedirs(out_dir, exist_ok=True)
    for dataset in datasets:
        rows, kept = export_dataset(api, dataset, args.hp, columns, not args.no_dataset_column, progress=not args.self_test)
        base = os.path.join(out_dir, f'nb201-{dataset}-hp{args.hp}')
        if args.format in ('csv', 'both'):
            write_csv(base + '.csv', rows, kept)
            print(f'wrote {base}.csv ({len(rows)} rows: {", ".join(kept)})', file=sys.stderr)
        if args.format in ('arrow', 'both'):
            write_arrow(base + '.arrow', rows, kept)
            print(f'wrote {base}.arrow', file=sys.stderr)


if __name__ == '__main__':
    main()
