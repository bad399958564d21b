import { openSync, writeSync, closeSync } from 'node:fs';
import { fixtureTensors, readFixture, writeSafetensors } from '@effnet/efficientnet';
for (const f of process.argv.slice(2)) {
  const fd = openSync(`./${f.split('/').pop()}.safetensors`, 'w');
  writeSafetensors({ write: (b) => void writeSync(fd, b) }, fixtureTensors(readFixture(f)));
  closeSync(fd);
}
