#!/usr/bin/env python3
"""Compare usage-replay's audit JSON with the expected verdicts.

usage: compare.py EXPECTED.json PROJECT.json [--max N] [--fields a,b,...]
                  [--ignore-counts]

Both files are audit JSON, plain or gzip. Streams are matched by
stream_id. Compared per stream: instance_id, day, state, trigger, outcome,
code, event_count, and message when the expected outcome is "failed" (exact
text). Files of `--rules 2015` (top-level "rules": "2015") also compare,
exactly, each stream's `results` (per result: exists_message_id, outcome,
code, message) and `warnings`; files of `--rules both` each stream's
`triage` and `other` (rules, stream_id, outcome, code, warnings, and message
when the other side failed) and the summary's counts per triage label
(`by_triage`, or `triage`). --fields replaces the per-stream list (message
is still only compared for failed streams). Also compared: the `rules` of
the two files (absent = 2014), the summary object and, unless
--ignore-counts, unmatched / rejected / duplicates.

Prints the first N (default 20) mismatches and, last, a line like
"agree 9998/10000 streams". Exit 0 only if every stream agrees and the
summaries (and counts) match; 1 otherwise; 2 on unreadable input.
"""

import argparse
import gzip
import json
import sys

DEFAULT_FIELDS = ['instance_id', 'day', 'state', 'trigger', 'outcome',
                  'code', 'event_count', 'message']
FIELDS_2015 = ['results', 'warnings']
FIELDS_BOTH = ['triage', 'other']
RESULT_KEYS = ('exists_message_id', 'outcome', 'code', 'message')
OTHER_KEYS = ('rules', 'stream_id', 'outcome', 'code', 'warnings')
TRIAGE_LABELS = ('confirmed', '2014-only', '2015-only', 'agreed', 'error')


def _results(v):
    """results compared on their four keys (extra keys are allowed)."""
    if not isinstance(v, list):
        return v
    return [dict((k, r.get(k)) for k in RESULT_KEYS)
            if isinstance(r, dict) else r for r in v]


def _other(o, p):
    """-> differences between the expected and the project's `other`."""
    if o is None or p is None or not isinstance(o, dict) or \
            not isinstance(p, dict):
        return [] if o == p else ['other']
    keys = list(OTHER_KEYS)
    if o.get('outcome') == 'failed':
        keys.append('message')
    return ['other.%s' % k for k in keys if o.get(k) != p.get(k)]


def _triage_counts(doc):
    summary = doc.get('summary') or {}
    counts = summary.get('by_triage', summary.get('triage'))
    if not isinstance(counts, dict):
        return None
    return dict((k, counts.get(k, 0)) for k in
                sorted(set(TRIAGE_LABELS) | set(counts)))


def read_text(path):
    """A file's text; gzip (by its magic bytes) is undone."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    return data.decode('utf-8')


def load(path):
    try:
        doc = json.loads(read_text(path))
        streams = {}
        for s in doc['streams']:
            streams[s['stream_id']] = s
        return doc, streams
    except (OSError, ValueError, KeyError, TypeError, EOFError) as e:
        sys.stderr.write("compare: cannot read %s: %s\n" % (path, e))
        sys.exit(2)



def _count(v):
    """A count, or a list of the counted records (its length)."""
    return len(v) if isinstance(v, list) else v

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('expected')
    ap.add_argument('project')
    ap.add_argument('--max', type=int, default=20)
    ap.add_argument('--fields', help="comma-separated stream fields")
    ap.add_argument('--ignore-counts', action='store_true',
                    help="do not compare unmatched/rejected/duplicates")
    args = ap.parse_args(argv)
    odoc, ostreams = load(args.expected)
    pdoc, pstreams = load(args.project)
    rules = odoc.get('rules', '2014')
    if args.fields:
        fields = args.fields.split(',')
    else:
        fields = list(DEFAULT_FIELDS)
        if rules == '2015':
            fields += FIELDS_2015
        elif rules == 'both':
            fields += FIELDS_BOTH

    problems = []
    rules_ok = rules == pdoc.get('rules', '2014')
    if not rules_ok:
        problems.append("rules expected=%s project=%s" % (
            json.dumps(rules), json.dumps(pdoc.get('rules'))))
    ids = sorted(set(ostreams) | set(pstreams),
                 key=lambda x: (0, x) if isinstance(x, int) else (1, str(x)))
    agree = 0
    for sid in ids:
        o, p = ostreams.get(sid), pstreams.get(sid)
        if o is None or p is None:
            problems.append("stream %s: only in %s" % (
                sid, 'expected' if p is None else 'project'))
            continue
        diffs = []
        for f in fields:
            if f == 'message' and o.get('outcome') != 'failed':
                continue
            if f == 'other':
                bad = _other(o.get(f), p.get(f))
                if bad:
                    diffs.append("%s expected=%s project=%s" % (
                        ','.join(bad),
                        json.dumps(o.get(f), ensure_ascii=False),
                        json.dumps(p.get(f), ensure_ascii=False)))
                continue
            if f == 'results':
                same = _results(o.get(f)) == _results(p.get(f))
            else:
                same = o.get(f) == p.get(f)
            if not same:
                diffs.append("%s expected=%s project=%s" % (
                    f, json.dumps(o.get(f), ensure_ascii=False),
                    json.dumps(p.get(f), ensure_ascii=False)))
        if diffs:
            problems.append("stream %s (%s %s): %s" % (
                sid, o.get('instance_id'), o.get('day'), '; '.join(diffs)))
        else:
            agree += 1
    # docs/outputs.md: the project's summary also carries by_code; compare the four outcome counts.
    keys = ('verified', 'failed', 'error', 'pending')
    osum = {k: (odoc.get('summary') or {}).get(k) for k in keys}
    psum = {k: (pdoc.get('summary') or {}).get(k) for k in keys}
    summary_ok = osum == psum
    if not summary_ok:
        problems.append("summary expected=%s project=%s" % (
            json.dumps(osum, sort_keys=True), json.dumps(psum, sort_keys=True)))
    otri = _triage_counts(odoc)
    if otri is not None:
        ptri = _triage_counts(pdoc)
        if otri != ptri:
            summary_ok = False
            problems.append("triage counts expected=%s project=%s" % (
                json.dumps(otri, sort_keys=True),
                json.dumps(ptri, sort_keys=True)))
    counts_ok = True
    if not args.ignore_counts:
        # docs/inputs.md lists rejected records and counts not-distilled ones apart;
        # the expected files count both as rejected.
        prej = pdoc.get('rejected')
        prej = len(prej) if isinstance(prej, list) else (prej or 0)
        pcounts = {'unmatched': _count(pdoc.get('unmatched')),
                   'rejected': prej + (pdoc.get('not_distilled') or 0),
                   'duplicates': _count(pdoc.get('duplicates'))}
        for k in ('unmatched', 'rejected', 'duplicates'):
            if odoc.get(k) != pcounts[k]:
                counts_ok = False
                problems.append("%s expected=%s project=%s" % (
                    k, odoc.get(k), pcounts[k]))
    for line in problems[:args.max]:
        print(line)
    if len(problems) > args.max:
        print("... %d more" % (len(problems) - args.max))
    print("agree %d/%d streams" % (agree, len(ids)))
    ok = agree == len(ids) and summary_ok and counts_ok and rules_ok
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
