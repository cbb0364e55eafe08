// Every control the views show (buttons, the run picker, check boxes) is made here and only here,
// from @vscode/webview-ui-toolkit's web components. The toolkit is archived upstream: swapping it
// for another library (or plain elements styled with the theme variables) touches this file alone.
// Labels and option texts are set with textContent: they are run names.
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDropdown, vsCodeOption, vsCodeTextField } from '@vscode/webview-ui-toolkit';

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDropdown(), vsCodeOption(), vsCodeCheckbox(), vsCodeTextField());
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

export interface TextFieldControl {
  readonly element: HTMLElement;
  value: string;
}

/** A one-line text input (the comparison table's filter); `onInput` fires as the user types. */
export function createTextField(label: string, onInput: (value: string) => void, options: { id?: string; placeholder?: string } = {}): TextFieldControl {
  register();
  const element = document.createElement('vscode-text-field') as ValueElement;
  element.setAttribute('aria-label', label);
  if (options.placeholder) element.setAttribute('placeholder', options.placeholder);
  if (options.id) element.id = options.id;
  element.addEventListener('input', () => onInput(element.value));
  return {
    element,
    get value() {
      return element.value;
    },
    set value(text: string) {
      // Also as the attribute: before the element is upgraded, the property would not reach it.
      element.setAttribute('value', text);
      element.value = text;
    },
  };
}

export interface SliderControl {
  readonly element: HTMLElement;
  value: number;
  setRange(min: number, max: number, step: number): void;
  setDisabled(disabled: boolean): void;
}

/**
 * A labelled range slider with its value read out. The toolkit has none, so it is the platform's
 * <input type=range>, styled with the theme's variables (media/common.css `.slider`). `onInput`
 * fires as it moves, `onChange` once it is let go; setting `value` fires neither.
 */
export function createSlider(
  label: string,
  options: { min: number; max: number; step: number; value: number; id?: string; format?: (v: number) => string },
  onInput: (value: number) => void,
  onChange: (value: number) => void = () => undefined,
): SliderControl {
  const element = document.createElement('label');
  element.className = 'slider';
  if (options.id) element.id = options.id;
  const text = document.createElement('span');
  text.className = 'slider-label';
  text.textContent = label;
  const input = document.createElement('input');
  input.type = 'range';
  input.min = String(options.min);
  input.max = String(options.max);
  input.step = String(options.step);
  input.value = String(options.value);
  input.setAttribute('aria-label', label);
  const readout = document.createElement('output');
  readout.className = 'slider-value';
  const format = options.format ?? ((v: number) => String(v));
  const show = () => {
    readout.textContent = format(Number(input.value));
  };
  show();
  input.addEventListener('input', () => {
    show();
    onInput(Number(input.value));
  });
  input.addEventListener('change', () => onChange(Number(input.value)));
  element.append(text, input, readout);
  return {
    element,
    get value() {
      return Number(input.value);
    },
    set value(v: number) {
      input.value = String(v);
      show();
    },
    setRange(min, max, step) {
      input.min = String(min);
      input.max = String(max);
      input.step = String(step);
      show();
    },
    setDisabled(disabled) {
      input.disabled = disabled;
    },
  };
}

export interface ToggleControl {
  readonly element: HTMLButtonElement;
  pressed: boolean;
}

/** A small text button in a chart's caption (log scale, PNG): `aria-pressed` when it toggles. */
export function createChip(label: string, title: string, onClick: () => void, options: { toggle?: boolean; action?: string } = {}): ToggleControl {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = 'chip';
  element.textContent = label;
  element.title = title;
  element.setAttribute('aria-label', title);
  if (options.action) element.dataset.action = options.action;
  if (options.toggle) element.setAttribute('aria-pressed', 'false');
  element.addEventListener('click', onClick);
  return {
    element,
    get pressed() {
      return element.getAttribute('aria-pressed') === 'true';
    },
    set pressed(value: boolean) {
      const v = value ? 'true' : 'false';
      if (element.getAttribute('aria-pressed') !== v) element.setAttribute('aria-pressed', v);
    },
  };
}
