import glob, os
# The unpacked sources (see SURVEY.md, "Reproducing"); SURVEY_SRC overrides.
B = os.environ.get('SURVEY_SRC', '/tmp/survey/src')
def g(*pats):
    out = []
    for p in pats:
        out += glob.glob(os.path.join(B, p), recursive=True)
    return sorted(set(out))
CORPORA = {
    'transformers': g('tf/transformers/models/*/modeling_*.py'),
    'tf-core': g('tf/transformers/masking_utils.py', 'tf/transformers/cache_utils.py',
                 'tf/transformers/modeling_rope_utils.py', 'tf/transformers/integrations/sdpa_attention.py',
                 'tf/transformers/integrations/flex_attention.py', 'tf/transformers/integrations/eager_paged.py',
                 'tf/transformers/pytorch_utils.py'),
    'torchvision': g('tv/torchvision/models/**/*.py', 'tv/torchvision/ops/*.py'),
    'timm': g('timm/timm/models/**/*.py', 'timm/timm/layers/**/*.py'),
    'diffusers': g('df/diffusers/models/**/*.py'),
}
def rel(p):
    return p.replace(B + '/', '').replace('tf/', '').replace('tv/', '').replace('timm/timm/', 'timm/').replace('df/', '')
