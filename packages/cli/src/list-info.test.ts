/**
 * `effnet list` and `effnet info` through the real binary: every family's ids with their aliases and
 * default resolutions, and info's exact counts and stage tables (timm 1.0.29's numbers).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBin } from './test-utils/bin.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-list-info-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** id → [aliases, default resolution], as issue 15 and the paper give them. */
const V1 = [224, 240, 260, 300, 380, 456, 528, 600].flatMap((r, i): [string, string[], number][] => [
  [`efficientnet-b${i}`, [`b${i}`, `efficientnet_b${i}`], r],
  [`tf-efficientnet-b${i}`, [`tf_efficientnet_b${i}`], r],
]);
const V2: [string, string[], number][] = [
  ...(['b0', 'b1', 'b2', 'b3'] as const).map((v, i): [string, string[], number] => [`tf-efficientnetv2-${v}`, [`tf_efficientnetv2_${v}`], [224, 240, 260, 300][i]!]),
  ...(['s', 'm', 'l', 'xl'] as const).flatMap((v, i): [string, string[], number][] => {
    const r = [384, 480, 480, 512][i]!;
    return [
      [`tf-efficientnetv2-${v}`, [`tf_efficientnetv2_${v}`], r],
      [`efficientnetv2-${v}`, [`efficientnetv2_${v}`], r],
    ];
  }),
];
const LITE = [224, 240, 260, 280, 300].flatMap((r, i): [string, string[], number][] => [
  [`tf-efficientnet-lite${i}`, [`tf_efficientnet_lite${i}`], r],
  [`efficientnet-lite${i}`, [`efficientnet_lite${i}`], r],
]);
const OTHERS: [string, string[], number][] = [
  ['efficientnet', ['efficientnet-custom'], 224],
  ['resnet50', [], 224],
  ['resnet101', [], 224],
  ['resnet152', [], 224],
  ['amoebanet-b', ['amoebanet_b', 'gpipe'], 480],
];
/** The mobile baselines: timm's names as aliases, all at 224. */
const MOBILE: [string, string[], number][] = [
  ...[
    'mobilenetv1-100',
    'mobilenetv1-125',
    'mobilenetv2-100',
    'mobilenetv2-140',
    'mobilenetv2-120d',
    'mobilenetv3-large-100',
    'mobilenetv3-large-075',
    'mobilenetv3-small-100',
    'tf-mobilenetv3-large-100',
  ].map((id): [string, string[], number] => [id, [id.replace(/-/g, '_')], 224]),
  ['mnasnet-100', ['mnasnet_100', 'mnasnet-b1'], 224],
  ['semnasnet-100', ['semnasnet_100', 'mnasnet-a1'], 224],
];
const ALL = [...V1, ...V2, ...LITE, ...OTHERS, ...MOBILE];

describe('effnet list (the binary)', () => {
  it('--json: every id of every family once, with its aliases, family and default resolution', async () => {
    const r = await runBin(['list', '--json'], dir);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const models = JSON.parse(r.stdout) as { id: string; aliases: string[]; family: string; resolution: number; numClasses: number; description: string }[];
    expect(V2).toHaveLength(12);
    expect(LITE).toHaveLength(10);
    expect(models.map((m) => m.id).sort()).toEqual(ALL.map(([id]) => id).sort());
    const byId = new Map(models.map((m) => [m.id, m]));
    for (const [id, aliases, resolution] of ALL) {
      expect(byId.get(id), id).toMatchObject({ aliases, resolution, numClasses: 1000 });
      expect(byId.get(id)!.description.length, id).toBeGreaterThan(10);
    }
    const family = (ids: [string, string[], number][]) => [...new Set(ids.map(([id]) => byId.get(id)!.family))];
    expect(family(V1)).toEqual(['efficientnet']);
    expect(family(V2)).toEqual(['efficientnetv2']);
    expect(family(LITE)).toEqual(['efficientnet-lite']);
    // No alias names two models, and none is another model's id.
    const names = models.flatMap((m) => [m.id, ...m.aliases]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('the table: one row per id with its aliases and resolution; every alias works as a model name', async () => {
    const r = await runBin(['list'], dir);
    expect([r.code, r.stderr]).toEqual([0, '']);
    // Rows wrap to the terminal width (80 when piped): a continuation line has an empty first cell.
    const rows: string[][] = [];
    for (const c of plain(r.stdout)
      .split('\n')
      .map((l) => l.split('│').map((c) => c.trim()))
      .filter((c) => c.length > 4 && c[1] !== 'model')) {
      if (c[1] !== '') rows.push([...c]);
      else c.forEach((v, i) => v && (rows.at(-1)![i] = rows.at(-1)![i] ? `${rows.at(-1)![i]} ${v}` : v));
    }
    expect(rows.map((c) => c[1]).sort()).toEqual(ALL.map(([id]) => id).sort());
    const timmNamed = ALL.filter(([id, aliases]) => aliases.includes(id.replace(/-/g, '_'))).length;
    expect(r.stdout).toContain(`${timmNamed} ids also answer to timm's name, '_' for '-'`);
    for (const [id, aliases, resolution] of ALL) {
      const row = rows.find((c) => c[1] === id)!;
      // timm's name ('_' for '-') is said once below the table rather than in every row.
      const shown = aliases.filter((a) => a !== id.replace(/-/g, '_'));
      expect([row[2], row[3]], id).toEqual([shown.join(', '), String(resolution)]);
    }
    // An alias of each family resolves to its id (info is cheap for the small ones).
    for (const [alias, id] of [
      ['b0', 'efficientnet-b0'],
      ['tf_efficientnetv2_b0', 'tf-efficientnetv2-b0'],
      ['efficientnet_lite0', 'efficientnet-lite0'],
    ]) {
      const info = await runBin(['info', alias!, '--json'], dir);
      expect([info.code, info.stderr], alias).toEqual([0, '']);
      expect(JSON.parse(info.stdout).model).toBe(id);
    }
  });
});

describe('effnet info --json (the binary)', () => {
  const stage = (stage: number, operator: string, r: number, channels: number, layers: number) => ({ stage, operator, resolution: [r, r], channels, layers });
  const cases = [
    {
      id: 'efficientnet-b0',
      family: 'efficientnet',
      params: 5_288_548,
      macs: 385_814_752,
      resolution: 224,
      // The paper's Table 1.
      stages: [
        stage(1, 'Conv3x3', 224, 32, 1),
        stage(2, 'MBConv1, k3x3', 112, 16, 1),
        stage(3, 'MBConv6, k3x3', 112, 24, 2),
        stage(4, 'MBConv6, k5x5', 56, 40, 2),
        stage(5, 'MBConv6, k3x3', 28, 80, 3),
        stage(6, 'MBConv6, k5x5', 14, 112, 3),
        stage(7, 'MBConv6, k5x5', 14, 192, 4),
        stage(8, 'MBConv6, k3x3', 7, 320, 1),
        stage(9, 'Conv1x1 & Pooling & FC', 7, 1280, 1),
      ],
    },
    {
      id: 'tf-efficientnetv2-b0',
      family: 'efficientnetv2',
      params: 7_139_704,
      macs: 718_086_176,
      resolution: 224,
      // timm _gen_efficientnetv2_base: cn16 ×1, er32 ×2, er48 ×2, ir96 ×3 (e4), ir112 ×5, ir192 ×8; head 1280.
      stages: [
        stage(1, 'Conv3x3', 224, 32, 1),
        stage(2, 'Conv3x3', 112, 16, 1),
        stage(3, 'Fused-MBConv4, k3x3', 112, 32, 2),
        stage(4, 'Fused-MBConv4, k3x3', 56, 48, 2),
        stage(5, 'MBConv4, k3x3', 28, 96, 3),
        stage(6, 'MBConv6, k3x3', 14, 112, 5),
        stage(7, 'MBConv6, k3x3', 14, 192, 8),
        stage(8, 'Conv1x1 & Pooling & FC', 7, 1280, 1),
      ],
    },
    {
      id: 'efficientnet-lite0',
      family: 'efficientnet-lite',
      params: 4_652_008,
      macs: 385_187_552,
      resolution: 224,
      // B0's stage table without SE (Lite0 is B0's width and depth).
      stages: [
        stage(1, 'Conv3x3', 224, 32, 1),
        stage(2, 'MBConv1, k3x3', 112, 16, 1),
        stage(3, 'MBConv6, k3x3', 112, 24, 2),
        stage(4, 'MBConv6, k5x5', 56, 40, 2),
        stage(5, 'MBConv6, k3x3', 28, 80, 3),
        stage(6, 'MBConv6, k5x5', 14, 112, 3),
        stage(7, 'MBConv6, k5x5', 14, 192, 4),
        stage(8, 'MBConv6, k3x3', 7, 320, 1),
        stage(9, 'Conv1x1 & Pooling & FC', 7, 1280, 1),
      ],
    },
  ];
  for (const c of cases) {
    it(`${c.id}: ${c.params} params, ${c.macs} MACs at ${c.resolution}, its family's stage table`, async () => {
      const r = await runBin(['info', c.id, '--json'], dir);
      expect([r.code, r.stderr]).toEqual([0, '']);
      const info = JSON.parse(r.stdout);
      expect(info).toMatchObject({ model: c.id, family: c.family, params: c.params, macs: c.macs, flops: 2 * c.macs, resolution: c.resolution, numClasses: 1000 });
      expect(info.stages).toEqual(c.stages);
      expect(info.file.externalData).toBe(false);
      // float32 weights: 4 bytes per parameter, plus the BatchNorm running statistics (buffers, not
      // parameters: ~1.7% more), graph and metadata.
      expect(info.file.bytes / (4 * c.params)).toBeGreaterThan(1.01);
      expect(info.file.bytes / (4 * c.params)).toBeLessThan(1.025);
    });
  }

  it('--resolution and --num-classes change the counts as they must (b0 at 300 px, 10 classes)', async () => {
    const r = await runBin(['info', 'b0', '--resolution', '300', '--num-classes', '10', '--json'], dir);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const info = JSON.parse(r.stdout);
    // The classifier shrinks from 1280×1000+1000 to 1280×10+10 parameters.
    expect(info.params).toBe(5_288_548 - 1_281_000 + 12_810);
    expect(info).toMatchObject({ resolution: 300, numClasses: 10 });
    expect(info.stages[0]).toEqual(stage(1, 'Conv3x3', 300, 32, 1));
    expect(info.macs).toBeGreaterThan(385_814_752 * 1.7);
  });
});

describe("the paper's Table 3 through the binary (counts only)", () => {
  it('effnet bench --compare table3 prints the 14 rows with MACs beside the paper, and --json gives them', async () => {
    const r = await runBin(['bench', '--compare', 'table3'], dir);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const out = plain(r.stdout);
    for (const [net, macs, paper] of [
      ['MobileNetV1', '2.22B', '2.2B'],
      ['MobileNetV2', '1.22B', '1.2B'],
      ['ResNet-50', '16.35B', '16.4B'],
    ] as const)
      expect(out).toMatch(new RegExp(`│ ${net} +│[^\\n]*│ +${macs.replace('.', '\\.')} │ +${paper.replace('.', '\\.')} │`));
    const json = JSON.parse((await runBin(['bench', '--compare', 'table3', '--json'], dir)).stdout) as { network: string; macs: number; paperFlops: number }[];
    expect(json).toHaveLength(14);
    expect(json.filter((x) => x.network === 'ResNet-50').map((x) => x.paperFlops / 1e9)).toEqual([4.1, 16.2, 14.7, 16.4, 16.7]);
  });
  it('effnet info scales MobileNetV1, MobileNetV2 and ResNet-50 as the table does', async () => {
    const macs = async (args: string[]) => (JSON.parse((await runBin(['info', ...args, '--json'], dir)).stdout) as { macs: number }).macs;
    expect(await macs(['mobilenetv1-100', '--width', '2'])).toBe(2_216_465_408);
    expect(await macs(['mobilenetv2-100', '--depth', '4'])).toBe(1_219_587_776);
    expect(await macs(['resnet50', '--width', '2', '--depth', '1', '--resolution', '224'])).toBe(16_116_613_120);
  });
  it('models next to --compare table3 are a usage error', async () => {
    const r = await runBin(['bench', 'resnet50', '--compare', 'table3'], dir);
    expect(r.code).toBe(2);
    expect(plain(r.stderr)).toContain('--compare table3 builds its own models; leave out resnet50');
  });
});
