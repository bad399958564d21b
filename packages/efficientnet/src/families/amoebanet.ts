/** GPipe's AmoebaNet-B(N, F) (tensorflow/tpu amoeba_net): own cell builder (amoebanet.ts), registered as a family. */
import { amoebaNet } from '../amoebanet.js';
import { INCEPTION_MEAN, INCEPTION_STD, type Family } from '../family.js';

/** GPipe's AmoebaNet-B(18, 512); `cells`/`filters` give the rest of the family. */
const AMOEBANET_B_DEFAULT = { cells: 18, filters: 512 } as const;

export const AMOEBANET: Family = {
  id: 'amoebanet',
  title: 'AmoebaNet-B',
  scaling: 'AmoebaNet-B(N, F): --cells N normal cells, --filters F of the first stack (no compound scaling)',
  naming: 'tf-scopes',
  models: [
    {
      id: 'amoebanet-b',
      aliases: ['amoebanet_b', 'gpipe'],
      description: `AmoebaNet-B(N, F), default (${AMOEBANET_B_DEFAULT.cells}, ${AMOEBANET_B_DEFAULT.filters}) as trained by GPipe; --cells N --filters F (tensorflow/tpu amoeba_net rules, TF "SAME" padding, BN eps 1e-3, no aux head)`,
      resolution: 480,
      // inception_preprocessing: central crop 0.875, bilinear resize, scaled to [-1, 1].
      preprocess: { mean: INCEPTION_MEAN, std: INCEPTION_STD, cropPct: 0.875, interpolation: 'bilinear' },
      build: (o) => {
        const cells = o.cells ?? AMOEBANET_B_DEFAULT.cells;
        const filters = o.filters ?? AMOEBANET_B_DEFAULT.filters;
        const built = amoebaNet({ ...o, name: 'amoebanet-b', cells, filters, bnEps: o.bnEps ?? 1e-3 });
        return { ...built, metadata: { 'effnet.arch': `AmoebaNet-B(${cells}, ${filters})` } };
      },
    },
  ],
};
