// The open alerts as a list (sidebar) or banner (dashboard). Every string of an alert goes
// through textContent: alert messages quote run data.
import type { Alert } from '../contract';
import { formatStep } from './format';

export function renderAlerts(container: HTMLElement, open: readonly Alert[]): void {
  container.replaceChildren(...open.map(alertItem));
  container.hidden = open.length === 0;
  container.dataset.count = String(open.length);
}

function alertItem(alert: Alert): HTMLElement {
  const item = document.createElement('div');
  item.className = `alert ${alert.severity === 'critical' ? 'critical' : 'warning'}`;
  item.dataset.alertId = alert.id;
  item.setAttribute('role', alert.severity === 'critical' ? 'alert' : 'status');
  const head = document.createElement('div');
  head.className = 'alert-head';
  const severity = document.createElement('span');
  severity.className = 'alert-severity';
  severity.textContent = alert.severity === 'critical' ? 'Critical' : 'Warning';
  const where = document.createElement('span');
  where.className = 'alert-where';
  where.textContent = `${alert.metric} · step ${formatStep(alert.step)}`;
  head.append(severity, where);
  const message = document.createElement('div');
  message.className = 'alert-message';
  message.textContent = alert.message;
  item.append(head, message);
  if (alert.source) {
    const source = document.createElement('div');
    source.className = 'alert-source';
    source.textContent = `${alert.source.file}:${alert.source.line}`;
    item.append(source);
  }
  return item;
}
