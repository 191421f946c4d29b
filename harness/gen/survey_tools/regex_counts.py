import re, sys, json, collections
from corpora import CORPORA, rel
S = r'(?:\.shape\b|\.size\(|\.ndim\b|\.dim\(\)|\.numel\(\))'
PATS = [
 ('shape[i] index', r'\.shape\[-?\d+\]'),
 ('size(i)', r'\.size\(\s*-?\d+\s*\)'),
 ('size() no-arg', r'\.size\(\)'),
 ('tuple unpack of shape', r'^\s*\*?\w+\s*,\s*[\w\s,*]*=\s*[\w\.\[\]]+\.(?:shape|size\(\))\s*(?:\[[^\]]*\])?\s*$'),
 ('shape slice x.shape[a:b]', r'\.(?:shape|size\(\))\[-?\d*:-?\d*\]'),
 ('*x.shape star-unpack', r'\*\s*[\w\.]+\.(?:shape|size\(\))'),
 ('shape tuple concat (+ tuple)', r'\.(?:shape|size\(\))\[[^\]]*:[^\]]*\]\s*\+\s*\(|\)\s*\+\s*[\w\.]+\.(?:shape|size\(\))\['),
 ('.ndim / .dim()', r'\.ndim\b|\.dim\(\)'),
 ('.numel()', r'\.numel\(\)'),
 ('len(', r'\blen\('),
 ('.stride(', r'\.stride\('),
 ('is_contiguous', r'is_contiguous\('),
 ('.shape[i] //', r'\.shape\[-?\d\]\s*//'),
 ('.size(i) arith [-+*/%]', r'\.size\(-?\d\)\s*[-+*/%]'),
 ('size-expr // k', S + r'[^\n]*//'),
 ('size-expr % k', S + r'[^\n]*\s%\s'),
 ('** on line with size', S + r'[^\n]*\*\*'),
 ('math.ceil/floor/sqrt(', r'math\.(?:ceil|floor|sqrt)\('),
 ('math.* any', r'\bmath\.\w+\('),
 ('int(...shape/size)', r'\bint\([^\n]*' + S),
 ('float(...shape/size)', r'\bfloat\([^\n]*' + S),
 ('round(', r'\bround\('),
 ('divmod', r'\bdivmod\('),
 ('bit ops << >> on size', S + r'[^\n]*(?:<<|>>)'),
 ('torch.sym_*', r'torch\.sym_\w+'),
 ('max(/min( with size', r'\b(?:max|min)\([^\n]*' + S),
 ('if ... shape/size', r'^\s*(?:el)?if\b[^\n]*' + S),
 ('if ... % ... (divisibility)', r'^\s*(?:el)?if\b[^\n]*\s%\s'),
 ('assert on size', r'^\s*assert\b[^\n]*' + S),
 ('torch._check', r'torch\._check'),
 ('torch_compilable_check (HF wrapper of torch._check)', r'torch_compilable_check\('),
 ('_assert( / torch._assert(', r'\b_assert\('),
 ('torch_int( / torch_float( (HF tracing helpers)', r'\btorch_(?:int|float)\('),
 ('if size % k != 0 / == 0', r'(?:\.shape|\.size\(|\b\w+)\S*\s%\s[^\n]*[!=]=\s*0'),
 ('.shape == / !=', r'\.shape\s*[!=]='),
 ('size == size (two reads)', S + r'[^\n]*[!=]=[^\n]*' + S),
 ('and/or in size if', r'^\s*(?:el)?if\b[^\n]*' + S + r'[^\n]*\b(?:and|or)\b|^\s*(?:el)?if\b[^\n]*\b(?:and|or)\b[^\n]*' + S),
 ('range(...size)', r'\brange\([^\n]*' + S),
 ('zip(...shape)', r'\bzip\([^\n]*\.shape'),
 ('is_tracing/is_compiling/is_scripting', r'is_tracing\(|is_compiling\(|is_scripting\(|is_dynamo_compiling|is_torchdynamo_compiling'),
 ('.view(', r'\.view\('),
 ('.reshape(', r'\.reshape\('),
 ('view/reshape with -1', r'\.(?:view|reshape)\([^\n]*-1'),
 ('view/reshape with size on line', r'\.(?:view|reshape)\([^\n]*' + S),
 ('.unflatten(', r'\.unflatten\(|\bunflatten\('),
 ('.flatten(', r'\.flatten\('),
 ('.split(', r'\.split\(|torch\.split\('),
 ('.chunk(', r'\.chunk\(|torch\.chunk\('),
 ('.narrow(', r'\.narrow\('),
 ('.unbind(', r'\.unbind\('),
 ('F.pad(', r'\bF\.pad\(|functional\.pad\(|nn\.functional\.pad\('),
 ('interpolate( any', r'\binterpolate\('),
 ('interpolate scale_factor', r'interpolate\([^\n]*scale_factor'),
 ('interpolate size=', r'interpolate\([^\n]*size\s*='),
 ('torch.arange(', r'torch\.arange\('),
 ('torch.arange(...size)', r'torch\.arange\([^\n]*' + S),
 ('.tolist()', r'\.tolist\(\)'),
 ('.item()', r'\.item\(\)'),
 ('expand(', r'\.expand\('),
 ('expand(...-1)', r'\.expand\([^\n]*-1'),
 ('expand_as(', r'\.expand_as\('),
 ('repeat(', r'\.repeat\('),
 ('repeat_interleave(', r'repeat_interleave\('),
 ('masked_fill', r'masked_fill'),
 ('torch.full(', r'torch\.full\('),
 ('zeros/ones/empty(', r'torch\.(?:zeros|ones|empty)\('),
 ('new_zeros/ones/full/empty', r'\.new_(?:zeros|ones|full|empty)\('),
 ('new_tensor', r'\.new_tensor\('),
 ('*_like(', r'torch\.\w+_like\('),
 ('torch.tensor(', r'torch\.tensor\('),
 ('tril/triu(', r'(?:\.|torch\.)(?:tril|triu)_?\('),
 ('tril/triu diagonal arg', r'(?:tril|triu)_?\([^\n]*(?:diagonal\s*=|,\s*-?\w)'),
 ('topk(', r'\btopk\('),
 ('kthvalue', r'kthvalue\('),
 ('histc/bincount', r'histc\(|bincount\('),
 ('pool fn call (F.*pool*)', r'F\.\w*pool\w*\(|functional\.\w*pool\w*\('),
 ('adaptive_*pool', r'adaptive_\w*pool'),
 ('F.conv*(', r'F\.conv\w*\(|functional\.conv\w*\('),
 ('padding= kw', r'\bpadding\s*='),
 ('slice with size bound [..:n]', r'\[[^\]\n]*:[^\]\n]*' + S),
 ('torch.cat(', r'torch\.cat\('),
 ('torch.where(', r'torch\.where\('),
 ('torch.gather/index_select', r'gather\(|index_select\('),
 ('nonzero/masked_select/unique', r'nonzero\(|masked_select\(|\.unique\(|torch\.unique'),
 ('einsum', r'einsum\('),
 ('permute/transpose', r'\.permute\(|\.transpose\('),
 ('roll(', r'torch\.roll\(|\.roll\('),
 ('torch.Size(', r'torch\.Size\('),
 ('scaled_dot_product_attention', r'scaled_dot_product_attention\('),
 ('meshgrid', r'meshgrid\('),
 ('cumsum', r'cumsum\('),
]
CP = [(n, re.compile(p, re.M)) for n, p in PATS]
res = collections.OrderedDict()
ex = collections.defaultdict(list)
for corp, files in CORPORA.items():
    for f in files:
        text = open(f, encoding='utf-8', errors='replace').read()
        skip = set()
        try:
            import ast
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    skip.update(range(node.lineno, node.end_lineno + 1))
        except SyntaxError:
            pass
        for ln, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if ln in skip or s.startswith('#') or s.startswith('>>>'):
                continue
            for n, c in CP:
                if c.search(line):
                    d = res.setdefault(n, {}).setdefault(corp, [0, set(), set()])
                    d[0] += 1; d[1].add(f); d[2].add(s)
                    if len(ex[(n, corp)]) < 400:
                        ex[(n, corp)].append('%s:%d: %s' % (rel(f), ln, s[:160]))
corps = list(CORPORA)
print('| pattern | ' + ' | '.join(corps) + ' | all: lines / distinct lines |')
print('|---|' + '---|' * (len(corps) + 1))
for n, _ in PATS:
    row = res.get(n, {})
    print('| %s | ' % n.replace('|', '/') + ' | '.join('%d (%d f)' % (row[c][0], len(row[c][1])) if c in row else '0' for c in corps) + ' | %d / %d |' % (sum(v[0] for v in row.values()), len(set().union(*[v[2] for v in row.values()])) if row else 0))
json.dump({'%s||%s' % k: v for k, v in ex.items()}, open('/tmp/survey/regex_examples.json', 'w'), indent=0)
