import type { Command } from 'commander';
import { MODELS } from '@effnet/efficientnet';
import { printJson, renderTable } from '../output.js';

export function register(program: Command): void {
  program
    .command('list')
    .description('list the models effnet can build')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      const rows = MODELS.map((m) => ({ id: m.id, aliases: m.aliases, family: m.family, resolution: m.resolution, numClasses: m.numClasses, description: m.description }));
      if (o.json) return printJson(rows);
      console.log(
        renderTable(
          ['model', 'aliases', 'res', 'description'],
          rows.map((r) => [r.id, r.aliases.join(', '), r.resolution, r.description]),
        ),
      );
    });
}
