import json, sys
d = json.load(open('/tmp/survey/ast_results.json'))
keys = sys.argv[1:]
for k in keys:
    print('==', k)
    for c in d:
        ex = d[c]['ex'].get(k, [])
        seen = set(); out = []
        for e in ex:
            f = e.split(':')[0]
            if f in seen: continue
            seen.add(f); out.append(e)
        for e in out[:5]:
            print('   [%s] %s' % (c, e))
