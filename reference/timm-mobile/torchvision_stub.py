# Stand-in for torchvision (absent from the local mirror): timm imports it at load time only.
import sys, types, importlib.abc, importlib.machinery
import torch

class _Meta(type):
    def __getattr__(cls, name):
        if name.startswith('__'): raise AttributeError(name)
        return _Any()

class _Any(metaclass=_Meta):
    def __init__(self, *a, **k): pass
    def __call__(self, *a, **k): return _Any()
    def __getattr__(self, name): return _Any()

class _Mod(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'): raise AttributeError(name)
        return _Any

class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name.startswith('torchvision.'):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None
    def create_module(self, spec):
        m = _Mod(spec.name); m.__path__ = []; return m
    def exec_module(self, module):
        if module.__name__ == 'torchvision.ops.misc':
            class FrozenBatchNorm2d(torch.nn.Module):
                def __init__(self, num_features, eps=1e-5):
                    super().__init__()
            module.FrozenBatchNorm2d = FrozenBatchNorm2d

sys.meta_path.insert(0, _Finder())
