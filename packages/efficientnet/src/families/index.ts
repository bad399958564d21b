/** The family registry: one line per family. */
import type { Family } from '../family.js';
import { AMOEBANET } from './amoebanet.js';
import { EFFICIENTNET } from './efficientnet.js';
import { EFFICIENTNETV2 } from './efficientnetv2.js';
import { EFFICIENTNET_LITE } from './lite.js';
import { MNASNET } from './mnasnet.js';
import { MOBILENET_V1 } from './mobilenetv1.js';
import { MOBILENET_V2 } from './mobilenetv2.js';
import { MOBILENET_V3 } from './mobilenetv3.js';
import { RESNET } from './resnet.js';

export const FAMILIES: readonly Family[] = [EFFICIENTNET, EFFICIENTNETV2, EFFICIENTNET_LITE, RESNET, AMOEBANET, MOBILENET_V1, MOBILENET_V2, MOBILENET_V3, MNASNET];
