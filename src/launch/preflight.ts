// Before a launch: does the interpreter exist, and does it have torch? A clear answer in seconds
// beats a trainer that dies on its first import.
import { execFile } from 'node:child_process';

export type Preflight =
  | { ok: true; torch: string }
  | { ok: false; problem: 'missing-interpreter' | 'missing-torch' | 'broken'; message: string };

export function preflight(python: string, timeoutMs = 60_000): Promise<Preflight> {
  return new Promise((resolve) => {
    execFile(python, ['-c', 'import torch; print(torch.__version__)'], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, torch: stdout.trim() });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES') {
        return resolve({ ok: false, problem: 'missing-interpreter', message: `Python interpreter "${python}" was not found (${code}). Choose one in the Python extension or set lossradar.pythonPath.` });
      }
      if (/No module named ['"]?torch/.test(stderr)) {
        return resolve({ ok: false, problem: 'missing-torch', message: `PyTorch is not installed for ${python}. Install it with: ${python} -m pip install torch` });
      }
      const last = stderr.trim().split('\n').slice(-3).join(' ');
      resolve({ ok: false, problem: 'broken', message: `${python} could not import torch: ${last || err.message}` });
    });
  });
}
