import ast, json, collections, sys
from corpora import CORPORA, rel
from ast_survey import Func, callee, dotted

C = {}
EX = collections.defaultdict(list)
def add(corp, key, node, path):
    C.setdefault(key, collections.Counter())[corp] += 1
    if len(EX[key]) < 40:
        EX[key].append('%s:%d: %s' % (path, node.lineno, (ast.unparse(node.args) if isinstance(node, ast.FunctionDef) else ast.unparse(node))[:170]))

def argval(n, name, pos):
    for k in n.keywords:
        if k.arg == name: return k.value
    if len(n.args) > pos: return n.args[pos]
    return None

def is_lit(v):
    if isinstance(v, ast.Constant): return True
    if isinstance(v, ast.UnaryOp) and isinstance(v.operand, ast.Constant): return True
    if isinstance(v, (ast.Tuple, ast.List)): return all(is_lit(e) for e in v.elts)
    return False

for corp, files in CORPORA.items():
    for f in files:
        try: tree = ast.parse(open(f, encoding='utf-8').read())
        except SyntaxError: continue
        P = rel(f)
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)): continue
            F = Func(fn, P, None); F.taint()
            # forward() signatures with int-like (non-tensor) params
            if fn.name == 'forward':
                ints = []
                for a in fn.args.args + fn.args.kwonlyargs:
                    ann = ast.unparse(a.annotation) if a.annotation is not None else ''
                    if ann.replace(' ', '') in ('int', 'Optional[int]', 'int|None', 'float', 'Optional[float]', 'float|None', 'tuple[int,int]', 'Tuple[int,int]', 'list[int]', 'List[int]', 'Optional[Tuple[int,int]]', 'tuple[int,int]|None', 'tuple[int,...]', 'Tuple[int,...]'):
                        ints.append(a.arg + ':' + ann)
                if ints:
                    add(corp, 'forward() with int/float/tuple[int] params', fn, P)
            for n in F.nodes:
                if isinstance(n, ast.Call):
                    cn = callee(n)
                    if cn == 'interpolate':
                        sz = argval(n, 'size', 1); sf = argval(n, 'scale_factor', 2)
                        if sf is not None and not (isinstance(sf, ast.Constant) and sf.value is None):
                            add(corp, 'interpolate: scale_factor given', n, P)
                            add(corp, 'interpolate: scale_factor literal' if is_lit(sf) else 'interpolate: scale_factor non-literal (attr/var)', n, P)
                            if any(isinstance(m, ast.Constant) and isinstance(m.value, float) and not float(m.value).is_integer() for m in ast.walk(sf)):
                                add(corp, 'interpolate: fractional literal scale (e.g. 0.5)', n, P)
                        if sz is not None and not (isinstance(sz, ast.Constant) and sz.value is None):
                            add(corp, 'interpolate: size given', n, P)
                            if F.contains_size(sz):
                                add(corp, 'interpolate: size from size-expr (x.shape[-2:], (h, w))', n, P)
                                if F.info(sz)[2] >= 1 or any(F.info(e)[2] >= 1 for e in getattr(sz, 'elts', [])):
                                    add(corp, 'interpolate: size from DERIVED size (h*2, H//p)', n, P)
                    if cn == 'pad' and (dotted(n.func) or '').endswith(('F.pad', 'functional.pad')):
                        add(corp, 'F.pad: calls', n, P)
                        pv = argval(n, 'pad', 1)
                        if pv is not None:
                            if F.contains_size(pv): add(corp, 'F.pad: pad widths from size-expr', n, P)
                            elif is_lit(pv): add(corp, 'F.pad: literal pad widths', n, P)
                            else: add(corp, 'F.pad: pad widths from other var/attr', n, P)
                        mode = argval(n, 'mode', 2)
                        if mode is not None and isinstance(mode, ast.Constant) and mode.value != 'constant':
                            add(corp, 'F.pad: non-constant mode (%s)' % mode.value, n, P)
                        val = argval(n, 'value', 3)
                        if val is not None and not is_lit(val): add(corp, 'F.pad: non-literal value=', n, P)
                    if cn in ('tril', 'triu', 'tril_', 'triu_'):
                        d = argval(n, 'diagonal', 1 if isinstance(n.func, ast.Attribute) and dotted(n.func) and dotted(n.func).startswith('torch.') else 0)
                        add(corp, 'tril/triu: calls', n, P)
                        if d is not None:
                            if F.contains_size(d): add(corp, 'tril/triu: diagonal from size-expr', n, P)
                            elif is_lit(d): add(corp, 'tril/triu: literal diagonal', n, P)
                            else: add(corp, 'tril/triu: diagonal from var/attr', n, P)
                    if cn == 'topk':
                        k = argval(n, 'k', 1 if (dotted(n.func) or '').startswith('torch.') else 0)
                        add(corp, 'topk: calls', n, P)
                        if k is not None and F.contains_size(k): add(corp, 'topk: k from size-expr', n, P)
                    if cn in ('avg_pool1d', 'avg_pool2d', 'avg_pool3d', 'max_pool1d', 'max_pool2d', 'max_pool3d', 'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'adaptive_avg_pool3d', 'adaptive_max_pool2d', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose2d', 'unfold', 'fold'):
                        add(corp, 'pool/conv/unfold fn: calls', n, P)
                        args = list(n.args[1:]) + [k.value for k in n.keywords]
                        if any(F.contains_size(a) for a in args):
                            add(corp, 'pool/conv/unfold fn: kernel/stride/pad/output_size from size-expr', n, P)
                        kw = {k.arg for k in n.keywords}
                        if 'ceil_mode' in kw: add(corp, 'pool: ceil_mode= given', n, P)
                    if cn in ('view', 'reshape'):
                        add(corp, 'view/reshape: calls', n, P)
                        hit = [a for a in n.args if F.contains_size(a)]
                        if hit:
                            add(corp, 'view/reshape: with size-expr args', n, P)
                            if any(F.info(a.value if isinstance(a, ast.Starred) else a)[2] >= 1 for a in n.args) or any(isinstance(m, ast.BinOp) and F.info(m)[1] for a in n.args for m in ast.walk(a)):
                                add(corp, 'view/reshape: with DERIVED size args (C // heads, H*W)', n, P)
                    if cn == 'expand':
                        add(corp, 'expand: calls', n, P)
                        if any(isinstance(m, ast.UnaryOp) and isinstance(m.operand, ast.Constant) and m.operand.value == 1 for a in n.args for m in ast.walk(a)):
                            add(corp, 'expand: with -1', n, P)
                        if any(F.contains_size(a) for a in n.args):
                            add(corp, 'expand: with size-expr args', n, P)
                    if cn in ('new_zeros', 'new_ones', 'new_full', 'new_empty'):
                        add(corp, 'new_*: calls', n, P)
                        if any(F.contains_size(a) for a in n.args): add(corp, 'new_*: size from size-expr', n, P)
                    if cn in ('full', 'full_like'):
                        fv = argval(n, 'fill_value', 1)
                        if fv is not None and F.contains_size(fv): add(corp, 'full: fill_value from size-expr', n, P)
                    if cn in ('tensor', 'as_tensor', 'scalar_tensor', 'new_tensor') and any(F.contains_size(a) for a in n.args):
                        add(corp, 'size -> tensor (torch.tensor(n), as_tensor, new_tensor)', n, P)
                    if cn in ('split', 'chunk', 'split_with_sizes', 'tensor_split', 'unbind'):
                        add(corp, 'split/chunk: calls', n, P)
                        if any(F.contains_size(a) for a in n.args[:2]) or any(F.contains_size(k.value) for k in n.keywords if k.arg in ('split_size_or_sections', 'chunks', 'sections', 'split_size')):
                            add(corp, 'split/chunk: size/chunks from size-expr', n, P)
                    if cn == 'range':
                        if len(n.args) == 3 and F.contains_size(n):
                            add(corp, 'range(a, size, step) with step (tiling loops)', n, P)
                    if cn == 'arange':
                        if F.contains_size(n):
                            add(corp, 'arange: with size arg', n, P)
                            if any(F.info(a)[2] >= 1 for a in n.args): add(corp, 'arange: with DERIVED size arg', n, P)
                            if len(n.args) >= 2: add(corp, 'arange: start/end form with size', n, P)
                    if cn in ('repeat', 'tile'):
                        if any(F.contains_size(a) for a in n.args): add(corp, 'repeat/tile: counts from size-expr', n, P)
                    if cn == 'repeat_interleave':
                        if any(F.contains_size(a) for a in n.args) or any(F.contains_size(k.value) for k in n.keywords):
                            add(corp, 'repeat_interleave: repeats from size-expr', n, P)
                    if cn == 'narrow' and any(F.contains_size(a) for a in n.args): add(corp, 'narrow: with size-expr', n, P)
                    if cn == 'unflatten' and any(F.contains_size(a) for a in n.args): add(corp, 'unflatten: with size-expr', n, P)
                    if cn in ('masked_fill', 'masked_fill_'):
                        v = argval(n, 'value', 1)
                        if v is not None:
                            s = ast.unparse(v)
                            add(corp, 'masked_fill: value kind=' + ('finfo.min/-inf/const' if ('finfo' in s or 'inf' in s or is_lit(v)) else ('size-expr' if F.contains_size(v) else 'other')), n, P)
                    if cn in ('roll',) and any(F.contains_size(a) for a in n.args[1:]): add(corp, 'roll: shifts from size-expr', n, P)
                if isinstance(n, ast.If):
                    t = n.test
                    has_mod = any(isinstance(m, ast.BinOp) and isinstance(m.op, ast.Mod) and F.contains_size(m) for m in ast.walk(t))
                    body_calls = {callee(m) for s in n.body for m in ast.walk(s) if isinstance(m, ast.Call)}
                    if F.contains_size(t) and not F.rank_only(t):
                        if 'pad' in body_calls:
                            add(corp, 'if <size test>: F.pad(...)  (pad-to-multiple / conditional pad)', t, P)
                        if 'interpolate' in body_calls:
                            add(corp, 'if <size test>: interpolate(...)', t, P)
                        if has_mod:
                            add(corp, 'if <size % k ...>: (divisibility test)', t, P)
                        if any(isinstance(m, ast.Compare) and any(isinstance(c, ast.Constant) and c.value == 1 for c in m.comparators) for m in ast.walk(t)):
                            add(corp, 'if <size ==/!=/> 1>: (decode-step / singleton special case)', t, P)
                        if any(isinstance(m, ast.Compare) and len([x for x in [m.left] + m.comparators if F.info(x)[1]]) >= 2 for m in ast.walk(t)):
                            add(corp, 'if <size op size>: (two dynamic values compared)', t, P)
                        if isinstance(t, ast.BoolOp) or any(isinstance(m, ast.BoolOp) for m in ast.walk(t)):
                            add(corp, 'if with and/or around a size test', t, P)
                        if any(isinstance(s, ast.Return) for s in n.body):
                            add(corp, 'if <size test>: early return in arm', t, P)
json.dump({k: dict(v) for k, v in C.items()}, open('/tmp/survey/sinks_detail.json', 'w'), indent=0)
json.dump(EX, open('/tmp/survey/sinks_detail_ex.json', 'w'), indent=0)
corps = list(CORPORA)
print('| measure | ' + ' | '.join(corps) + ' | total |')
print('|---|' + '---|' * (len(corps) + 1))
for k in sorted(C):
    print('| %s | ' % k.replace('|', '/') + ' | '.join(str(C[k].get(c, 0)) for c in corps) + ' | %d |' % sum(C[k].values()))
