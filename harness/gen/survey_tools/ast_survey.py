import ast, sys, json, collections
from corpora import CORPORA, rel

import os
LENIENT = os.environ.get('LENIENT') == '1'
SIZE_NAMES = {'height', 'width', 'H', 'W', 'h', 'w', 'seq_len', 'seq_length', 'sequence_length', 'num_frames', 'T', 'L', 'N', 'B', 'C', 'D', 'batch_size', 'bsz', 'q_len', 'kv_len', 'tgt_len', 'src_len', 'num_patches', 'hw_shape', 'feat_size', 'input_shape', 'spatial_shape', 'size'}
INCLUDE_LEN = False  # len() is mostly applied to python lists in model code; excluded as a size source
SIZE_METHODS_SCALAR = {'numel', 'dim', 'nelement', 'ndimension'}
SHAPE_CHANGING = {'pad', 'interpolate', 'view', 'reshape', 'cat', 'expand', 'repeat', 'permute', 'transpose',
                  'flatten', 'unflatten', 'unsqueeze', 'squeeze', 'narrow', 'split', 'chunk', 'avg_pool2d',
                  'max_pool2d', 'adaptive_avg_pool2d', 'contiguous_format', 'stack', 'roll', 'unfold', 'repeat_interleave',
                  'window_partition', 'window_reverse', 'resample_abs_pos_embed', 'resample', 'upsample'}
SCALAR_FUNCS = {'int', 'float', 'round', 'abs', 'max', 'min', 'divmod', 'pow', 'bool', 'sum', 'len'}

class Ctx:
    def __init__(self):
        self.c = collections.Counter()
        self.ex = collections.defaultdict(list)
    def add(self, key, node, path, n=1):
        self.c[key] += n
        if len(self.ex[key]) < 60:
            try:
                src = ast.unparse(node)
            except Exception:
                src = '?'
            self.ex[key].append('%s:%d: %s' % (path, getattr(node, 'lineno', 0), src[:170]))

def callee(node):
    f = node.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ''

def dotted(n):
    if isinstance(n, ast.Attribute):
        d = dotted(n.value)
        return d + '.' + n.attr if d else None
    if isinstance(n, ast.Name):
        return n.id
    return None

class Func:
    """per-function taint analysis"""
    def __init__(self, fn, path, ctx):
        self.fn, self.path, self.ctx = fn, path, ctx
        self.size = {}      # name -> (kind 'scalar'|'tuple', depth)
        self.scalar = set() # non-size scalar names (hyperparams)
        for a in fn.args.args + fn.args.kwonlyargs:
            ann = ast.unparse(a.annotation) if a.annotation is not None else ''
            if ann in ('int', 'float', 'Optional[int]', 'int | None', 'Tuple[int, int]', 'tuple[int, int]', 'List[int]', 'list[int]', 'bool'):
                self.scalar.add(a.arg)
        defaults = fn.args.defaults
        for a, d in zip(fn.args.args[len(fn.args.args) - len(defaults):], defaults):
            if isinstance(d, ast.Constant) and isinstance(d.value, (int, float)) and not isinstance(d.value, bool):
                self.scalar.add(a.arg)
        self.nodes = list(self.iter_nodes(fn))
        self.rank_names = {}
        if LENIENT:
            # treat helper parameters that carry sizes (by annotation int or by a size-like name) as size values
            for a in fn.args.args + fn.args.kwonlyargs:
                ann = ast.unparse(a.annotation) if a.annotation is not None else ''
                if a.arg in SIZE_NAMES or (ann in ('int', 'tuple[int, int]', 'Tuple[int, int]') and a.arg not in ('dim', 'layer_idx')):
                    self.size[a.arg] = ('tuple' if 'tuple' in ann.lower() else 'scalar', 0)
                    self.scalar.discard(a.arg)

    def iter_nodes(self, fn):
        stack = list(reversed(fn.body))
        while stack:
            n = stack.pop()
            yield n
            for ch in reversed(list(ast.iter_child_nodes(n))):
                if isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.JoinedStr)):
                    continue
                stack.append(ch)

    # --- classification of expressions ---
    def src_kind(self, n):
        """direct size read: returns ('scalar'|'tuple', label) or None"""
        if self.is_static_param_shape(n):
            return None
        if isinstance(n, ast.Attribute) and n.attr == 'shape':
            return ('tuple', 'shape')
        if isinstance(n, ast.Attribute) and n.attr == 'ndim':
            return ('scalar', 'ndim')
        if isinstance(n, ast.Subscript):
            base = self.src_kind(n.value)
            if base and base[0] == 'tuple':
                return ('tuple' if isinstance(n.slice, ast.Slice) else 'scalar', base[1] + '[]')
            if isinstance(n.value, ast.Name) and n.value.id in self.size and self.size[n.value.id][0] == 'tuple':
                return ('tuple' if isinstance(n.slice, ast.Slice) else 'scalar', 'tuplevar[]')
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
            a = n.func.attr
            if a == 'size':
                return ('scalar', 'size(d)') if n.args else ('tuple', 'size()')
            if a in SIZE_METHODS_SCALAR and not n.args:
                return ('scalar', a + '()')
            if a == 'stride':
                return ('scalar', 'stride(d)') if n.args else ('tuple', 'stride()')
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == 'len' and len(n.args) == 1:
            arg = n.args[0]
            d = dotted(arg) or ''
            if INCLUDE_LEN and not d.startswith('self.') and not d.startswith('config.') and not isinstance(arg, (ast.List, ast.Tuple)):
                return ('scalar', 'len')
        return None

    def is_static_param_shape(self, n):
        # self.weight.shape / self.proj.weight.size(0): parameter shapes are static, not dynamic sizes
        base = n
        while isinstance(base, (ast.Subscript, ast.Call, ast.Attribute)):
            if isinstance(base, ast.Subscript): base = base.value
            elif isinstance(base, ast.Call): base = base.func
            else:
                if base.attr in ('shape', 'size', 'ndim', 'numel', 'dim', 'stride'):
                    d = dotted(base.value) or ''
                    return d.startswith('self.') or d in ('self',)
                base = base.value
        return False

    def info(self, n):
        """returns (is_scalarish, has_size, depth, kind) ; kind 'tuple'/'scalar'"""
        if self.is_static_param_shape(n):
            return (True, False, 0, 'scalar')
        sk = self.src_kind(n)
        if sk:
            return (True, True, 0, sk[0])
        if isinstance(n, ast.Name):
            if n.id in self.size:
                k, d = self.size[n.id]
                return (True, True, d, k)
            if n.id in self.scalar:
                return (True, False, 0, 'scalar')
            return (False, False, 0, '?')
        if isinstance(n, ast.Constant):
            if isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
                return (True, False, 0, 'scalar')
            return (False, False, 0, '?')
        if isinstance(n, ast.Attribute):
            d = dotted(n) or ''
            if (d.startswith('self.') or d.startswith('config.') or '.config.' in d) and n.attr not in ('weight', 'bias') and 'shape' not in d:
                return (True, False, 0, 'scalar')
            return (False, False, 0, '?')
        if isinstance(n, ast.UnaryOp):
            i = self.info(n.operand)
            return (i[0], i[1], i[2] + (1 if i[1] and not isinstance(n.op, ast.USub) else 0), i[3])
        if isinstance(n, ast.BinOp):
            l, r = self.info(n.left), self.info(n.right)
            if isinstance(n.op, ast.Add) and ('tuple' in (l[3], r[3]) or isinstance(n.left, ast.Tuple) or isinstance(n.right, ast.Tuple)):
                if l[1] or r[1]:
                    return (True, True, max(l[2], r[2]), 'tuple')
            ok = (l[0] or (isinstance(n.op, (ast.FloorDiv, ast.Mod)) and isinstance(n.left, ast.Name))) and \
                 (r[0] or (isinstance(n.op, (ast.FloorDiv, ast.Mod, ast.Pow)) and isinstance(n.right, ast.Name)))
            has = l[1] or r[1]
            return (ok, has, max(l[2], r[2]) + (1 if has else 0), 'scalar')
        if isinstance(n, ast.Call):
            cn = callee(n)
            d = dotted(n.func) or ''
            if d.startswith('math.') or d.startswith('torch.sym_') or cn in SCALAR_FUNCS:
                infos = [self.info(a) for a in n.args]
                has = any(i[1] for i in infos)
                if cn == 'len' and not has:
                    return (True, False, 0, 'scalar')
                return (has or all(i[0] for i in infos), has, max([i[2] for i in infos] + [0]) + (1 if has else 0), 'tuple' if cn == 'divmod' else 'scalar')
            return (False, False, 0, '?')
        if isinstance(n, ast.IfExp):
            a, b = self.info(n.body), self.info(n.orelse)
            t = self.info(n.test)
            return (a[0] and b[0], a[1] or b[1] or t[1], max(a[2], b[2]), a[3] if a[3] != '?' else b[3])
        if isinstance(n, ast.Compare):
            infos = [self.info(n.left)] + [self.info(c) for c in n.comparators]
            return (False, any(i[1] for i in infos), 0, 'bool')
        if isinstance(n, ast.BoolOp):
            infos = [self.info(v) for v in n.values]
            return (False, any(i[1] for i in infos), 0, 'bool')
        if isinstance(n, (ast.Tuple, ast.List)):
            infos = [self.info(e.value if isinstance(e, ast.Starred) else e) for e in n.elts]
            return (False, any(i[1] for i in infos), max([i[2] for i in infos] + [0]), 'tuple')
        if isinstance(n, ast.Starred):
            return self.info(n.value)
        return (False, False, 0, '?')

    def size_atoms(self, n, acc=None):
        """topmost size reads / size vars inside n: list of labels"""
        if acc is None: acc = []
        sk = self.src_kind(n)
        if sk:
            acc.append(sk[1]); return acc
        if isinstance(n, ast.Name) and n.id in self.size:
            acc.append(self.rank_names.get(n.id, 'var')); return acc
        if isinstance(n, ast.Call) and callee(n) == 'len' and n.args and self.src_kind(n.args[0]) and self.src_kind(n.args[0])[0] == 'tuple':
            acc.append('ndim'); return acc
        for ch in ast.iter_child_nodes(n):
            if isinstance(ch, (ast.Lambda, ast.JoinedStr)): continue
            self.size_atoms(ch, acc)
        return acc

    def rank_only(self, n):
        a = self.size_atoms(n)
        return bool(a) and all(x in ('ndim', 'dim()', 'ndimension()') for x in a)

    def contains_size(self, n):
        i = self.info(n)
        if i[1]:
            return True
        for ch in ast.iter_child_nodes(n):
            if isinstance(ch, (ast.Lambda, ast.JoinedStr)):
                continue
            if self.contains_size(ch):
                return True
        return False

    def taint(self):
        assigns = [n for n in self.nodes if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For))]
        assigns.sort(key=lambda n: (n.lineno, n.col_offset))
        for _ in range(2):
            for a in assigns:
                if isinstance(a, ast.For):
                    # for i in range(size): i is a size-derived scalar
                    if isinstance(a.iter, ast.Call) and callee(a.iter) == 'range' and isinstance(a.target, ast.Name):
                        if any(self.info(x)[1] for x in a.iter.args):
                            self.size[a.target.id] = ('scalar', 1)
                    continue
                val = a.value
                if val is None:
                    continue
                targets = a.targets if isinstance(a, ast.Assign) else [a.target]
                i = self.info(val)
                for t in targets:
                    if isinstance(t, ast.Name):
                        if isinstance(a, ast.AugAssign):
                            if t.id in self.size or i[1]:
                                k, d = self.size.get(t.id, ('scalar', 0))
                                self.size[t.id] = (k, max(d, i[2]) + 1)
                            continue
                        if i[1] and i[0] or (i[1] and i[3] == 'tuple' and not isinstance(val, (ast.Tuple, ast.List))) \
                           or (i[1] and isinstance(val, ast.Tuple) and all(self.info(e)[0] or isinstance(e, ast.Starred) for e in val.elts)):
                            self.size[t.id] = (i[3] if i[3] in ('scalar', 'tuple') else 'scalar', i[2])
                            if self.rank_only(val): self.rank_names[t.id] = 'ndim'
                        elif i[0] and not i[1]:
                            self.scalar.add(t.id)
                    elif isinstance(t, (ast.Tuple, ast.List)):
                        # tuple unpack
                        if i[1] and (i[3] == 'tuple' or isinstance(val, ast.Tuple)):
                            for e in t.elts:
                                e2 = e.value if isinstance(e, ast.Starred) else e
                                if isinstance(e2, ast.Name) and e2.id != '_':
                                    self.size[e2.id] = ('tuple' if isinstance(e, ast.Starred) else 'scalar', i[2])

    def run(self):
        self.taint()
        C, P = self.ctx, self.path
        parents = {}
        for n in self.nodes:
            for ch in ast.iter_child_nodes(n):
                parents[ch] = n
        for n in self.nodes:
            # ---- tuple unpacking of shapes
            if isinstance(n, ast.Assign) and isinstance(n.targets[0], (ast.Tuple, ast.List)):
                sk = self.src_kind(n.value)
                if sk and sk[0] == 'tuple':
                    star = any(isinstance(e, ast.Starred) for e in n.targets[0].elts)
                    C.add('read: tuple-unpack x.shape' + (' (with *rest)' if star else ''), n, P)
            # ---- raw reads
            sk = self.src_kind(n)
            if sk and not (isinstance(parents.get(n), ast.Subscript) and parents[n].value is n):
                C.add('read: ' + sk[1], n, P)
            # ---- pure size arithmetic (maximal BinOps)
            if isinstance(n, ast.BinOp):
                i = self.info(n)
                p = parents.get(n)
                pi = self.info(p) if isinstance(p, (ast.BinOp, ast.UnaryOp)) else (False, False, 0, '?')
                if i[1] and i[3] == 'tuple':
                    if not (isinstance(p, ast.BinOp) and pi[1] and pi[3] == 'tuple'):
                        C.add('arith: shape-tuple concat (x.shape[:k] + (a,b))', n, P)
                elif i[0] and i[1] and not (pi[0] and pi[1]):
                    ops = set()
                    nb = 0
                    atoms = set()
                    nonconst = False
                    for m in ast.walk(n):
                        if isinstance(m, ast.BinOp):
                            ops.add(type(m.op).__name__); nb += 1
                        if isinstance(m, ast.Name) and m.id in self.size:
                            atoms.add(m.id)
                        elif self.src_kind(m) and not (isinstance(parents.get(m), ast.Subscript) and parents[m].value is m) \
                                and not (isinstance(parents.get(m), ast.Attribute) or (isinstance(parents.get(m), ast.Call) and parents[m].func is m)):
                            atoms.add(ast.unparse(m))
                        if isinstance(m, (ast.Name, ast.Attribute)) and not self.info(m)[1] and isinstance(parents.get(m), ast.BinOp):
                            nonconst = True
                    C.add('arith: size expr (any)', n, P)
                    for o in ops:
                        C.add('arith op: ' + o, n, P)
                    if nb >= 2:
                        C.add('arith: >=2 ops in one expr (inline chain)', n, P)
                    if i[2] >= 2:
                        C.add('arith: derivation depth >=2 (chain incl. via variables)', n, P)
                    if len(atoms) >= 2:
                        C.add('arith: combines >=2 distinct size values (e.g. H*W, n - n//2)', n, P)
                    if nonconst:
                        C.add('arith: non-literal operand (self.attr / var, e.g. C // self.num_heads)', n, P)
                    consts = [m.value for m in ast.walk(n) if isinstance(m, ast.Constant) and isinstance(m.value, (int, float))]
                    if any(isinstance(c, int) and abs(c) > 3 for c in consts):
                        C.add('arith: integer literal outside 1..3', n, P)
                    if any(isinstance(c, float) for c in consts):
                        C.add('arith: float literal (e.g. ** -0.5, * 0.5)', n, P)
            # ---- scalar functions on sizes
            if isinstance(n, ast.Call):
                cn = callee(n); d = dotted(n.func) or ''
                if (d.startswith('math.') or d.startswith('torch.sym_') or (isinstance(n.func, ast.Name) and cn in SCALAR_FUNCS and cn != 'len')) \
                        and any(self.info(a)[1] for a in n.args):
                    C.add('fn on size: ' + (d if d.startswith('math.') or d.startswith('torch.') else cn), n, P)
            # ---- comparisons
            if isinstance(n, ast.Compare):
                sides = [n.left] + n.comparators
                infos = [self.info(s) for s in sides]
                if any(i[1] for i in infos) and not any(isinstance(o, (ast.Is, ast.IsNot)) for o in n.ops) and self.rank_only(n):
                    C.add('cmp: rank-only test (ndim/dim()/len(x.shape)) - static under export', n, P)
                elif any(i[1] for i in infos) and not any(isinstance(o, (ast.Is, ast.IsNot)) for o in n.ops):
                    C.add('cmp: any comparison involving a size', n, P)
                    for op, rhs, ri, lhs, li in zip(n.ops, n.comparators, infos[1:], sides, infos):
                        on = type(op).__name__
                        C.add('cmp op: ' + on, n, P)
                        # classify "other" side
                        other, oi = (rhs, ri) if li[1] else (lhs, li)
                        if isinstance(other, ast.Constant):
                            v = other.value
                            if v is None: k = 'None'
                            elif isinstance(v, bool): k = 'bool'
                            elif v == 0: k = '0'
                            elif v == 1: k = '1'
                            elif isinstance(v, int) and 2 <= v <= 8: k = 'int 2..8'
                            elif isinstance(v, int): k = 'int other (>8 or <0)'
                            elif isinstance(v, float): k = 'float literal'
                            else: k = 'other const'
                        elif isinstance(other, ast.UnaryOp) and isinstance(other.operand, ast.Constant):
                            k = 'negative literal'
                        elif oi[1] and li[1] and ri[1]:
                            k = 'another size expr (size vs size)'
                        elif isinstance(other, (ast.Tuple, ast.List)):
                            k = 'tuple/list literal'
                        elif oi[0]:
                            k = 'hyperparam / scalar var (self.x, config.x)'
                        else:
                            k = 'other expr'
                        C.add('cmp rhs: ' + k, n, P)
                        if oi[3] == 'tuple' or li[3] == 'tuple':
                            C.add('cmp: whole-shape tuple compare', n, P)
                    p = parents.get(n)
                    while isinstance(p, (ast.BoolOp, ast.UnaryOp)):
                        if isinstance(p, ast.BoolOp):
                            C.add('cmp ctx: inside and/or', p, P)
                        elif isinstance(p.op, ast.Not):
                            C.add('cmp ctx: inside not', p, P)
                        p = parents.get(p)
                    if isinstance(p, ast.If) or isinstance(p, ast.While): C.add('cmp ctx: if/while test', n, P)
                    elif isinstance(p, ast.IfExp): C.add('cmp ctx: ternary test', n, P)
                    elif isinstance(p, ast.Assert): C.add('cmp ctx: assert', n, P)
                    elif isinstance(p, ast.Call) and 'assert' in callee(p).lower(): C.add('cmp ctx: _assert()/torch._assert()', n, P)
                    elif isinstance(p, ast.Call) and 'check' in callee(p).lower(): C.add('cmp ctx: torch._check*', n, P)
                    elif isinstance(p, ast.comprehension): C.add('cmp ctx: comprehension filter', n, P)
                    else: C.add('cmp ctx: other (assigned/arg)', n, P)
            # ---- if statements on sizes
            if isinstance(n, (ast.If, ast.IfExp)):
                if self.contains_size(n.test) and self.rank_only(n.test):
                    C.add('branch: rank-only test (static)', n.test, P)
                elif self.contains_size(n.test):
                    kind = 'if-stmt' if isinstance(n, ast.If) else 'ternary'
                    C.add('branch: %s on size' % kind, n.test if isinstance(n, ast.If) else n, P)
                    if isinstance(n.test, (ast.Name, ast.Attribute, ast.Call, ast.BinOp)) and self.info(n.test)[1]:
                        C.add('branch: truthiness test of size value (if n:)', n.test, P)
                    if isinstance(n, ast.If):
                        body = n.body + n.orelse
                        raise_only = all(isinstance(s, (ast.Raise, ast.Expr)) for s in n.body)
                        shp = False; ret = False
                        for s in body:
                            for m in ast.walk(s):
                                if isinstance(m, ast.Call) and callee(m) in SHAPE_CHANGING:
                                    shp = True
                                if isinstance(m, ast.Subscript) and isinstance(m.slice, (ast.Slice, ast.Tuple)) and not self.src_kind(m):
                                    if isinstance(m.slice, ast.Slice) or any(isinstance(e, ast.Slice) for e in getattr(m.slice, 'elts', [])):
                                        shp = True
                                if isinstance(m, ast.Return):
                                    ret = True
                        if raise_only and any(isinstance(s, ast.Raise) for s in n.body):
                            C.add('branch arm kind: raise/validation', n.test, P)
                        elif shp:
                            C.add('branch arm kind: shape-changing op in an arm (pad/view/slice/interpolate/cat...)', n.test, P)
                        else:
                            C.add('branch arm kind: other', n.test, P)
                        if n.orelse:
                            C.add('branch: has else/elif', n.test, P)
            # ---- loops
            if isinstance(n, (ast.For, ast.comprehension)):
                it = n.iter
                if isinstance(it, ast.Call) and callee(it) == 'range' and any(self.contains_size(a) for a in it.args):
                    C.add('loop: for/comprehension over range(size)', it, P)
                    if any(self.info(a)[2] >= 1 for a in it.args):
                        C.add('loop: range(derived size)', it, P)
                elif self.contains_size(it):
                    C.add('loop: other iteration over size-derived value (zip/enumerate/shape)', it, P)
            if isinstance(n, ast.While) and self.contains_size(n.test):
                C.add('loop: while on size', n.test, P)
            # ---- sinks
            if isinstance(n, ast.Call):
                cn = callee(n)
                d = dotted(n.func) or ''
                if d.startswith('math.') or d.startswith('torch.sym_') or cn in SCALAR_FUNCS or cn == 'range':
                    pass
                else:
                    args = list(n.args) + [k.value for k in n.keywords]
                    hit = [a for a in args if self.contains_size(a)]
                    if hit and not cn.endswith('Error') and cn not in ('warn', 'warning', 'info', 'print', 'format', 'debug', 'warning_once', 'isinstance'):
                        C.add('sink(call with size arg): ' + cn, n, P)
                        C.add('sink: any call with size arg', n, P)
                        if any(self.info(a)[2] >= 1 for a in hit):
                            C.add('sink: call with derived (arith) size arg', n, P)
                        if cn in ('view', 'reshape', 'expand', 'new_zeros', 'new_ones', 'new_empty', 'new_full', 'zeros', 'ones', 'full', 'empty', 'repeat', 'unflatten') \
                                and any(isinstance(a, ast.UnaryOp) and isinstance(a.op, ast.USub) and isinstance(a.operand, ast.Constant) and a.operand.value == 1 for a in ast.walk(n)):
                            C.add('sink: %s(..., -1, ...) mixed with size args' % cn, n, P)
                        if any(isinstance(a, ast.Starred) for a in n.args) or any(isinstance(e, ast.Starred) for a in n.args if isinstance(a, (ast.Tuple, ast.List)) for e in a.elts):
                            C.add('sink: *x.shape[...] star-splat into call', n, P)
                    if cn in ('view', 'reshape', 'expand') and len(n.args) >= 1 and all(isinstance(a, ast.UnaryOp) or isinstance(a, ast.Constant) for a in n.args):
                        pass
            if isinstance(n, ast.Subscript) and not self.src_kind(n) and not (isinstance(n.value, ast.Name) and n.value.id in self.size):
                sl = n.slice
                parts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
                slc = [p for p in parts if isinstance(p, ast.Slice)]
                if any(self.contains_size(x) for p in slc for x in (p.lower, p.upper, p.step) if x is not None):
                    C.add('sink: slice bound uses size ([:n], [-n:], [a:b])', n, P)
                    if any(self.info(x)[2] >= 1 for p in slc for x in (p.lower, p.upper, p.step) if x is not None):
                        C.add('sink: slice bound uses DERIVED size', n, P)
                elif any(not isinstance(p, ast.Slice) and self.contains_size(p) for p in parts):
                    C.add('sink: integer index with size (x[n-1], x[:, -k])', n, P)

def main():
    out = {}
    for corp, files in CORPORA.items():
        ctx = Ctx()
        nfun = 0
        for f in files:
            try:
                tree = ast.parse(open(f, encoding='utf-8').read())
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    nfun += 1
                    Func(node, rel(f), ctx).run()
        out[corp] = {'nfun': nfun, 'counts': dict(ctx.c), 'ex': dict(ctx.ex)}
    json.dump(out, open('/tmp/survey/ast_results.json', 'w'), indent=0)
    keys = sorted(set(k for v in out.values() for k in v['counts']))
    corps = list(out)
    print('| measure | ' + ' | '.join(corps) + ' |')
    print('|---|' + '---|' * len(corps))
    print('| functions analysed | ' + ' | '.join(str(out[c]['nfun']) for c in corps) + ' |')
    for k in keys:
        print('| %s | ' % k.replace('|', '/') + ' | '.join(str(out[c]['counts'].get(k, 0)) for c in corps) + ' |')
if __name__ == "__main__":
    main()
