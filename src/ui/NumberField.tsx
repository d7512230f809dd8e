// A number input that lets people type: the text is the user's while they edit; a value in range is taken at once,
// anything else is clamped (and rounded for integers) when the field loses focus or on Enter. Clamping on every
// keystroke turned typing "64" into 164.
import { useEffect, useState, type InputHTMLAttributes } from 'react';

type Base = Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'type' | 'min' | 'max'>;

export interface NumberFieldProps extends Base {
  value: number;
  onCommit: (value: number) => void;
  min?: number;
  max?: number;
  integer?: boolean;
  testId?: string;
}

export function NumberField({ value, onCommit, min = -Infinity, max = Infinity, integer = false, testId, ...rest }: NumberFieldProps) {
  const [text, setText] = useState(String(value));
  const [editing, setEditing] = useState(false);
  useEffect(() => { if (!editing) setText(String(value)); }, [value, editing]);
  const valid = (v: number) => Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
  const settle = () => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v)) { setText(String(value)); return; }
    const c = Math.min(max, Math.max(min, integer ? Math.round(v) : v));
    if (c !== value) onCommit(c);
    setText(String(c));
  };
  return (
    <input {...rest} type="number" inputMode={integer ? 'numeric' : 'decimal'} min={Number.isFinite(min) ? min : undefined} max={Number.isFinite(max) ? max : undefined}
      value={text} data-testid={testId}
      onFocus={() => setEditing(true)}
      onChange={(e) => { setText(e.target.value); const v = Number(e.target.value); if (e.target.value.trim() !== '' && valid(v) && v !== value) onCommit(v); }}
      onBlur={() => { setEditing(false); settle(); }}
      onKeyDown={(e) => { if (e.key === 'Enter') settle(); }} />
  );
}
