// Which logged metric plays which part: the training loss, the validation loss, the learning rate,
// the gradient norm. People log them under many names (train_loss, eval_loss, learning_rate,
// Lightning's lr-AdamW, train/grad_norm …); every detector and view asks this one module, so a
// script that logs `train_loss` gets its chart and its warnings (docs/metrics.md).

/** A role is named by its canonical metric name, the one the detectors and charts are written for. */
export type MetricRole = 'loss' | 'loss/val' | 'lr' | 'grad_norm';
export const METRIC_ROLES: readonly MetricRole[] = ['loss', 'loss/val', 'lr', 'grad_norm'];

/** Names tried in order; the first one a run logs takes the role. */
export const ROLE_CANDIDATES: Readonly<Record<MetricRole, readonly string[]>> = {
  loss: ['loss', 'train_loss', 'train/loss', 'loss/train', 'training_loss', 'train/loss_step', 'train_loss_step', 'loss_step'],
  'loss/val': ['loss/val', 'val_loss', 'eval_loss', 'val/loss', 'eval/loss', 'validation_loss', 'valid_loss', 'loss/valid', 'loss/validation', 'val_loss_epoch'],
  lr: ['lr', 'learning_rate', 'train/lr', 'train/learning_rate', 'lr/group0', 'optimizer/lr'],
  grad_norm: ['grad_norm', 'gradient_norm', 'train/grad_norm', 'train/gradient_norm', 'grad_2.0_norm_total', 'grad_norm/total'],
};

/** Names no candidate list can hold: Lightning's LearningRateMonitor logs `lr-<Optimizer>[-<group>]`. */
const ROLE_PREFIXES: Readonly<Partial<Record<MetricRole, string>>> = { lr: 'lr-' };

/** The metric chosen for each role, or null when the run logs none (yet). */
export type MetricRoles = Record<MetricRole, string | null>;

/** No metric holds any role yet. */
export function noRoles(): MetricRoles {
  return { loss: null, 'loss/val': null, lr: null, grad_norm: null };
}

/**
 * The series that plays `role` in a run's set of series (the status bar's loss, a dashboard
 * overlay), or undefined when the run logs none.
 */
export function roleSeries<S>(series: { names(): Iterable<string>; get(name: string): S | undefined }, role: MetricRole, overrides: RoleOverrides = {}): S | undefined {
  const name = resolveRoles(series.names(), overrides)[role];
  return name === null ? undefined : series.get(name);
}

/** A user's choice, from the `lossradar.metrics.*` settings or `detect --set loss=NAME`: it always wins. */
export type RoleOverrides = Partial<Record<MetricRole, string>>;

export function isMetricRole(name: string): name is MetricRole {
  return (METRIC_ROLES as readonly string[]).includes(name);
}

/** The roles among a finished set of names (a run loaded from disk, a view's series). */
export function resolveRoles(names: Iterable<string>, overrides: RoleOverrides = {}): MetricRoles {
  const resolver = new RoleResolver(overrides);
  resolver.observeNames(names);
  return resolver.roles;
}

/**
 * Resolves roles as a run's metrics appear, row by row. A role, once taken, keeps its metric for
 * the rest of the run: a detector's baseline must not jump to another series mid-run.
 */
export class RoleResolver {
  readonly roles: MetricRoles = noRoles();
  private unresolved: MetricRole[];
  private lastKeyCount = -1;
  /** True when some role is held by a metric of another name: rows need the canonical view. */
  private aliased = false;

  constructor(overrides: RoleOverrides = {}) {
    for (const role of METRIC_ROLES) {
      const name = overrides[role]?.trim();
      if (name) this.take(role, name);
    }
    this.unresolved = METRIC_ROLES.filter((r) => this.roles[r] === null);
  }

  /** Looks at one row's metric names; true when a role was taken by it. Cheap once every role is. */
  observe(values: Record<string, number>): boolean {
    if (this.unresolved.length === 0) return false;
    let changed = false;
    for (const role of this.unresolved) {
      for (const name of ROLE_CANDIDATES[role]) {
        if (name in values) {
          this.take(role, name);
          changed = true;
          break;
        }
      }
    }
    // A prefix needs a scan of the row's names: done only when the row's shape changed.
    const keyCount = Object.keys(values).length;
    if (keyCount !== this.lastKeyCount) {
      this.lastKeyCount = keyCount;
      for (const role of this.unresolved) {
        const prefix = ROLE_PREFIXES[role];
        if (!prefix || this.roles[role] !== null) continue;
        for (const name in values) {
          if (name.startsWith(prefix)) {
            this.take(role, name);
            changed = true;
            break;
          }
        }
      }
    }
    if (changed) this.unresolved = this.unresolved.filter((r) => this.roles[r] === null);
    return changed;
  }

  observeNames(names: Iterable<string>): boolean {
    const values: Record<string, number> = {};
    for (const name of names) values[name] = 0;
    return this.observe(values);
  }

  /**
   * The row's values under the canonical names the detectors read, the aliased metrics moved to
   * their role's name. The row's own object when no role is aliased (no copy per row).
   */
  canonical(values: Record<string, number>): Record<string, number> {
    if (!this.aliased) return values;
    const out: Record<string, number> = { ...values };
    for (const role of METRIC_ROLES) {
      const name = this.roles[role];
      if (name === null || name === role) continue;
      if (role in out) delete out[role];
      if (name in values) {
        out[role] = values[name];
        delete out[name];
      }
    }
    return out;
  }

  /** The metric a canonical name stands for in this run (an alert on `loss` is about `train_loss`). */
  actual(name: string): string {
    return isMetricRole(name) ? (this.roles[name] ?? name) : name;
  }

  private take(role: MetricRole, name: string): void {
    this.roles[role] = name;
    if (name !== role) this.aliased = true;
  }
}
