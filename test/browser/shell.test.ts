// The page the browser tier drives is the product's page: the HTML shell src/vscode/webviewHtml.ts
// renders (src/view/webviewShell.ts), under its CSP, with nothing allowed past it. A page of the
// tests' own would let a violation the product has (or does not have) go unnoticed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { webviewCsp } from '../../src/view/webviewShell';
import { RUNS, resetMessage } from './fixtures';
import { cspViolations, pageErrors, send, startHarness, type Harness, type ViewName } from './harness';

let h: Harness;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await h?.close();
});

describe('the webview shell under test', () => {
  for (const view of ['live', 'dashboard'] as ViewName[]) {
    test(`${view}: the host's CSP and csp-nonce meta; the toolkit's controls, focused from the keyboard, violate nothing`, async () => {
      const page = await h.open(view);
      await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, resetMessage('run-a', 300));
      const head = await page.evaluate(() => ({
        csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content'),
        nonce: document.querySelector('meta[property="csp-nonce"]')?.getAttribute('content'),
        scripts: [...document.scripts].map((s) => s.nonce),
      }));
      assert.ok(head.nonce, 'no csp-nonce meta: the toolkit cannot insert its style');
      assert.equal(head.csp, webviewCsp(h.baseUrl, head.nonce));
      assert.ok(head.scripts.length >= 2 && head.scripts.every((n) => n === head.nonce), `scripts without the nonce: ${JSON.stringify(head.scripts)}`);
      // FAST's :focus-visible probe and the controls' focus styles run on keyboard focus.
      const onControl = () => page.evaluate(() => document.activeElement?.tagName.toLowerCase().startsWith('vscode-') === true);
      for (let i = 0; i < 10 && !(await onControl()); i++) await page.keyboard.press('Tab');
      assert.equal(await onControl(), true, 'Tab reached a toolkit control');
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(pageErrors(page), []);
      await page.close();
    });
  }
});
