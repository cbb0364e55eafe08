// Every control the views show (buttons, the run picker, check boxes) is made here and only here,
// from @vscode/webview-ui-toolkit's web components. The toolkit is archived upstream: swapping it
// for another library (or plain elements styled with the theme variables) touches this file alone.
// Labels and option texts are set with textContent: they are run names.
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDropdown, vsCodeOption } from '@vscode/webview-ui-toolkit';

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDropdown(), vsCodeOption(), vsCodeCheckbox());
}

interface Disableable extends HTMLElement {
  disabled: boolean;
}

interface Checkable extends Disableable {
  checked: boolean;
}

interface ValueElement extends HTMLElement {
  value: string;
}

export interface ButtonControl {
  readonly element: HTMLElement;
  setDisabled(disabled: boolean): void;
}

export function createButton(label: string, onClick: () => void, options: { appearance?: 'primary' | 'secondary'; id?: string } = {}): ButtonControl {
  register();
  const element = document.createElement('vscode-button') as Disableable;
  element.textContent = label;
  element.setAttribute('appearance', options.appearance ?? 'secondary');
  if (options.id) element.id = options.id;
  element.addEventListener('click', () => {
    if (!element.disabled) onClick();
  });
  return {
    element,
    setDisabled(disabled) {
      if (element.hasAttribute('disabled') === disabled) return;
      element.disabled = disabled;
      element.toggleAttribute('disabled', disabled);
    },
  };
}

export interface SelectOption {
  value: string;
  label: string;
}

export interface SelectControl {
  readonly element: HTMLElement;
  readonly value: string | null;
  /** Replaces the options and selects `selected` without firing onChange. */
  setOptions(options: readonly SelectOption[], selected: string | null): void;
}

/** A single-choice drop-down; `onChange` fires on the user's choice only, never on setOptions. */
export function createSelect(label: string, onChange: (value: string) => void, options: { id?: string } = {}): SelectControl {
  register();
  const element = document.createElement('vscode-dropdown') as ValueElement;
  element.setAttribute('aria-label', label);
  element.setAttribute('position', 'below');
  if (options.id) element.id = options.id;
  let selected: string | null = null;
  let programmatic = false;
  element.addEventListener('change', () => {
    if (programmatic) return;
    const value = element.value;
    if (value === '' || value === selected) return;
    selected = value;
    onChange(value);
  });
  const apply = () => {
    if (selected === null || element.value === selected) return;
    programmatic = true;
    try {
      element.value = selected;
    } finally {
      programmatic = false;
    }
  };
  return {
    element,
    get value() {
      return selected;
    },
    setOptions(list, value) {
      selected = value;
      element.replaceChildren(
        ...list.map((o) => {
          const option = document.createElement('vscode-option');
          option.setAttribute('value', o.value);
          option.textContent = o.label;
          option.title = o.label;
          if (o.value === value) option.setAttribute('selected', '');
          return option;
        }),
      );
      // The dropdown learns of new options when its slot changes (a task later).
      apply();
      queueMicrotask(apply);
      requestAnimationFrame(apply);
    },
  };
}

export interface CheckboxControl {
  readonly element: HTMLElement;
  checked: boolean;
  setDisabled(disabled: boolean): void;
}

export function createCheckbox(label: string, checked: boolean, onChange: (checked: boolean) => void): CheckboxControl {
  register();
  const element = document.createElement('vscode-checkbox') as Checkable;
  element.textContent = label;
  element.title = label;
  let programmatic = true;
  element.checked = checked;
  element.toggleAttribute('checked', checked);
  programmatic = false;
  element.addEventListener('change', () => {
    if (!programmatic) onChange(element.checked);
  });
  return {
    element,
    get checked() {
      return element.checked;
    },
    set checked(value: boolean) {
      programmatic = true;
      try {
        element.checked = value;
      } finally {
        programmatic = false;
      }
    },
    setDisabled(disabled) {
      element.disabled = disabled;
      element.toggleAttribute('disabled', disabled);
    },
  };
}
