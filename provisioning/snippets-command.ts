import { CliError, type CliIo } from './cli-io';
import { renderExporterSnippets } from './exporter-snippets';

/** `snippets --edge-ip IP [--port 2055]`: print the exporter configs. */
export function runSnippets(io: CliIo, o: { edgeIp: string; udpPort: number }): number {
  let text: string;
  try { text = renderExporterSnippets(o); } catch (err) { throw new CliError((err as Error).message, 2); }
  for (const line of text.replace(/\n$/, '').split('\n')) io.stdout(line);
  return 0;
}
