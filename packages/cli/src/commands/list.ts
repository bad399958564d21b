import type { Command } from 'commander';
import { MODELS } from '@effnet/efficientnet';
import { printJson, renderTable, terminalWidth, wrapText } from '../output.js';

export function register(program: Command): void {
  program
    .command('list')
    .description('list the models effnet can build')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      const rows = MODELS.map((m) => ({ id: m.id, aliases: m.aliases, family: m.family, resolution: m.resolution, numClasses: m.numClasses, description: m.description }));
      if (o.json) return printJson(rows);
      // timm's name ('_' for '-') is an alias of most ids: said once below the table instead of in
      // the aliases and description of every row, so that the table fits 80 columns (ids such as
      // tf-mobilenetv3-large-100 are long).
      const timmName = (id: string) => id.replace(/-/g, '_');
      console.log(
        renderTable(
          ['model', 'aliases', 'res', 'description'],
          rows.map((r) => [r.id, r.aliases.filter((a) => a !== timmName(r.id)).join(', '), r.resolution, r.description.replace(`timm ${timmName(r.id)}`, 'timm')]),
        ),
      );
      const named = rows.filter((r) => r.aliases.includes(timmName(r.id))).length;
      console.log(wrapText(`${named} ids also answer to timm's name, '_' for '-' (e.g. efficientnet_b0)`, terminalWidth()).join('\n'));
    });
}
