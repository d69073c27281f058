#!/usr/bin/env python3
"""Turns JMH JSON results (java -jar bench/target/benchmarks.jar ... -rf json -rff F.json) into a
Markdown table with GFLOP/s, GB/s and the fraction of the machine's measured limits.

usage: bench/jmh_report.py RESULTS.json [...] [--peak1 GFLOPS] [--peak2 GFLOPS] [--bw1 GBS] [--bw2 GBS]

Work per benchmark (FLOP = 2 x multiply-adds; bytes = the minimum traffic of the pass, fp32):
  GemmBench.sgemm                 2 n^3
  GemmBench.Generator.forward     2 out hidden FLOP; reads W (out x hidden) + writes y
  GemmBench.Generator.backward    4 out hidden FLOP; writes dW, reads W
  ConvBench.* / LayoutBench.*     2 x layer MACs (forward, input grad and weight grad alike);
                                  bytes: forward x + y, input grad dy + dx, weight grad x + dy
  BatchNormBench.trainForward     bytes: x read + y written (2 x tensor)
  BatchNormBench.backward         bytes: x and dy read + dx written (3 x tensor)
"""
import argparse
import json
import re


def layer(name):
    m = re.match(r'(stem|dw|conv|pw)(?:(\d)x\d)?(?:s(\d))?_(\d+)(?:-(\d+))?@(\d+)_n(\d+)$', name)
    if not m:
        raise SystemExit(f"cannot parse layer name {name}")
    kind, k, s, cin, cout, h, n = m.groups()
    k = int(k or 1); s = int(s or 1); cin = int(cin); h = int(h); n = int(n)
    cout = int(cout) if cout else cin
    groups = cin if kind == 'dw' else 1
    pad = k // 2
    ho = (h + 2 * pad - k) // s + 1
    macs = n * ho * ho * cout * (cin // groups) * k * k
    return macs, n * h * h * cin * 4, n * ho * ho * cout * 4


def work(bench, params):
    short = bench.split('.', 3)[-1] if bench.count('.') > 3 else bench
    cls_meth = bench.split('bench.')[-1]
    if cls_meth == 'GemmBench.sgemm':
        n = int(params['n'])
        return 2 * n ** 3, None
    if cls_meth.startswith('GemmBench.Generator'):
        out, hid = int(params['out']), int(params['hidden'])
        if cls_meth.endswith('forward'):
            return 2 * out * hid, out * hid * 4 + out * 4
        return 4 * out * hid, 2 * out * hid * 4
    if cls_meth.startswith('ConvBench') or cls_meth.startswith('LayoutBench'):
        macs, xb, yb = layer(params['layer'])
        return 2 * macs, xb + yb
    if cls_meth.startswith('BatchNormBench'):
        n, h, c = map(int, params['shape'].split(','))
        t = n * h * h * c * 4
        return None, (2 if cls_meth.endswith('trainForward') else 3) * t
    return None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('files', nargs='+')
    ap.add_argument('--peak1', type=float, help='FMA peak GFLOP/s, 1 thread')
    ap.add_argument('--peak2', type=float, help='FMA peak GFLOP/s, 2 threads')
    ap.add_argument('--bw1', type=float, help='memory bandwidth GB/s, 1 thread')
    ap.add_argument('--bw2', type=float, help='memory bandwidth GB/s, 2 threads')
    a = ap.parse_args()
    rows = []
    for f in a.files:
        for r in json.load(open(f)):
            params = r.get('params', {})
            ms = r['primaryMetric']['score']
            err = r['primaryMetric'].get('scoreError', float('nan'))
            unit = r['primaryMetric']['scoreUnit']
            assert unit == 'ms/op', unit
            flop, byts = work(r['benchmark'], params)
            thr = int(params.get('threads', 1))
            peak = a.peak1 if thr == 1 else a.peak2
            bw = a.bw1 if thr == 1 else a.bw2
            gf = flop / ms / 1e6 if flop else None
            gb = byts / ms / 1e6 if byts else None
            name = r['benchmark'].split('bench.')[-1]
            p = ' '.join(f'{k}={v}' for k, v in params.items() if k != 'threads')
            cells = [name, p, str(thr), f'{ms:.3f} ± {err:.3f}',
                     f'{gf:.1f}' if gf else '',
                     f'{100 * gf / peak:.0f}%' if gf and peak else '',
                     f'{gb:.1f}' if gb else '',
                     f'{100 * gb / bw:.0f}%' if gb and bw else '']
            rows.append(cells)
    print('| benchmark | params | thr | ms/op | GFLOP/s | % FMA peak | GB/s | % bandwidth |')
    print('|---|---|---|---|---|---|---|---|')
    for c in rows:
        print('| ' + ' | '.join(c) + ' |')


if __name__ == '__main__':
    main()
