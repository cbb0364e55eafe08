// The one handle on the webview's host: `acquireVsCodeApi()` may be called once per page, so every
// module that posts or persists goes through here. Messages are typed by the contract.
import type { WebviewToHost } from '../contract';

export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;

export function vscodeApi(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}
