// A webview's HTML: the shared shell (src/view/webviewShell.ts) with a fresh nonce per render and
// the bundle and stylesheet as webview URIs.
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { webviewShell } from '../view/webviewShell';

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, script: string, style: string, body: string): string {
  return webviewShell({
    cspSource: webview.cspSource,
    nonce: crypto.randomBytes(16).toString('base64'),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', script)).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', style)).toString(),
    body,
  });
}
