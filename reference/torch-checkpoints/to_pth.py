import json, struct, sys, collections, numpy as np, torch
DT = {'F32': np.float32, 'F16': np.float16, 'I64': np.int64}
for name in sys.argv[1:]:
    b = open(f'./{name}.safetensors', 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n]); base = 8 + n
    sd = collections.OrderedDict()
    for k, v in h.items():
        if k == '__metadata__': continue
        s, e = v['data_offsets']
        sd[k] = torch.from_numpy(np.frombuffer(b[base + s: base + e], dtype=DT[v['dtype']]).reshape(v['shape']).copy())
    # as training code saves: weights under 'state_dict', a num_batches_tracked per BN, and one legacy file
    for k in list(sd):
        if k.endswith('running_var'): sd[k[:-len('running_var')] + 'num_batches_tracked'] = torch.tensor(0)
    torch.save({'epoch': 10, 'state_dict': sd}, f'./{name}.pth')
    torch.save(sd, f'./{name}-legacy.pth', _use_new_zipfile_serialization=False)
    print(name, len(sd))
