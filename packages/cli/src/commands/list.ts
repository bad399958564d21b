import type { Command } from 'commander';
import Table from 'cli-table3';
import { MODELS } from '@effnet/efficientnet';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('list')
    .description('list the models effnet can build')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      const rows = MODELS.map((m) => ({ id: m.id, aliases: m.aliases, family: m.family, resolution: m.resolution, numClasses: m.numClasses, description: m.description }));
      if (o.json) return printJson(rows);
      const t = new Table({ head: ['model', 'aliases', 'res', 'description'], style: { head: [] } });
      for (const r of rows) t.push([r.id, r.aliases.join(', '), r.resolution, r.description]);
      console.log(t.toString());
    });
}
