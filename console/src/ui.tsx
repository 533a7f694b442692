// The console's shared UI, in one place: labelled fields (input, select,
// textarea, check box) with their errors beside them, the form hook and
// its form, the table, paging, a page whose heading takes the focus, an
// error box and a notice, a loader hook and a hook for changes.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { type Problem, problemOf } from "./api";

function asProblem(e: unknown): Problem {
  const p = e as Problem;
  return p && typeof p.message === "string" && p.fields ? p : problemOf(e);
}

let nextID = 0;
function useID(prefix: string) {
  const [id] = useState(() => `${prefix}-${++nextID}`);
  return id;
}

interface ControlProps {
  label: string;
  /** The field's name in the API, which problem+json errors[].field names. */
  name: string;
  problem?: Problem | null;
  required?: boolean;
}

/** useControl gives a control its id and ARIA state, and boxes it with its label and the error the API gave for its name. */
function useControl(p: ControlProps) {
  const id = useID(p.name);
  const err = p.problem?.fields[p.name];
  const attrs = {
    id,
    name: p.name,
    required: p.required,
    "aria-invalid": err ? ("true" as const) : undefined,
    "aria-describedby": err ? `${id}-error` : undefined,
  };
  const box = (control: JSX.Element) => (
    <div class="field">
      <label for={id}>{p.label}</label>
      {control}
      {err && (
        <span class="field-error" id={`${id}-error`} data-field={p.name}>
          {err}
        </span>
      )}
    </div>
  );
  return { attrs, box };
}

const text = (e: Event) => (e.target as HTMLInputElement).value;

/** Field is a labelled input; an error the API gave for its name shows beside it. */
export function Field(
  p: ControlProps & { value: string; onInput: (v: string) => void; type?: "text" | "password" | "number" | "datetime-local"; placeholder?: string },
) {
  const c = useControl(p);
  // Preact types each input type apart; the union is still an input type.
  return c.box(<input {...c.attrs} type={(p.type ?? "text") as "text"} value={p.value} placeholder={p.placeholder} onInput={(e) => p.onInput(text(e))} />);
}

/** Select is a labelled drop-down of options, with its error beside it. */
export function Select(p: ControlProps & { value: string; onChange: (v: string) => void; options: string[] }) {
  const c = useControl(p);
  const options = p.options.includes(p.value) ? p.options : [p.value, ...p.options];
  return c.box(
    <select {...c.attrs} value={p.value} onChange={(e) => p.onChange(text(e))}>
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>,
  );
}

/** TextArea is a labelled multi-line field, with its error beside it. */
export function TextArea(p: ControlProps & { value: string; onInput: (v: string) => void; rows?: number }) {
  const c = useControl(p);
  return c.box(<textarea {...c.attrs} rows={p.rows ?? 6} value={p.value} onInput={(e) => p.onInput(text(e))} />);
}

/** Check is a labelled check box. */
export function Check(p: { label: string; name: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = useID(p.name);
  return (
    <div class="field check">
      <input id={id} name={p.name} type="checkbox" checked={p.checked} onChange={(e) => p.onChange((e.target as HTMLInputElement).checked)} />
      <label for={id}>{p.label}</label>
    </div>
  );
}

/** Problems shows a failed call's message, and field errors no field on the form shows. */
export function Problems(p: { problem?: Problem | null; shown?: string[] }) {
  if (!p.problem) return null;
  const other = Object.entries(p.problem.fields).filter(([f]) => !(p.shown ?? []).includes(f));
  return (
    <div class="problem" role="alert">
      {p.problem.message}
      {other.length > 0 && (
        <ul>
          {other.map(([f, m]) => (
            <li key={f}>
              {f}: {m}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Page is a page's section; its heading takes the focus when it opens, so the keyboard (and a screen reader) starts there. */
export function Page(p: { title: string; children: ComponentChildren }) {
  const id = useID("page");
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section aria-labelledby={id}>
      <h2 id={id} tabIndex={-1} ref={heading}>
        {p.title}
      </h2>
      {p.children}
    </section>
  );
}

/** Notice says a change worked. */
export function Notice(p: { children: ComponentChildren }) {
  return (
    <div class="notice" role="status">
      {p.children}
    </div>
  );
}

/** useLoad runs load now and on reload(); it keeps the data or the problem. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const reload = useCallback(() => {
    load().then(
      (d) => {
        setData(d);
        setProblem(null);
      },
      (e) => setProblem(asProblem(e)),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { data, problem, reload };
}

/** useChange runs changes, keeping the last one's problem, or its message when it worked. */
export function useChange() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  // what is the message when f worked, or makes it from f's result.
  const run = async <T,>(f: () => Promise<T>, what: string | ((r: T) => string) = ""): Promise<boolean> => {
    setDone("");
    try {
      const r = await f();
      setProblem(null);
      setDone(typeof what === "string" ? what : what(r));
      return true;
    } catch (e) {
      setProblem(asProblem(e));
      return false;
    }
  };
  return { problem, setProblem, done, run };
}

/** Outcome shows a change's problem (but for the fields a form shows) or its message. */
export function Outcome(p: { change: { problem: Problem | null; done: string }; shown?: string[] }) {
  return (
    <>
      <Problems problem={p.change.problem} shown={p.shown} />
      {p.change.done && <Notice>{p.change.done}</Notice>}
    </>
  );
}

/** split reads a list typed with spaces or commas between its items. */
export const split = (s: string) => s.split(/[\s,]+/).filter(Boolean);

/** when is a time as the reader's locale writes it, or a dash for none. */
export function when(s?: string | null) {
  return s ? new Date(s).toLocaleString() : "—";
}

type Values = Record<string, string | boolean>;
type KeysOf<F, V> = { [K in keyof F]: F[K] extends V ? K : never }[keyof F] & string;
// Widen is a form's values typed as strings and booleans, not as the
// literals it starts from.
type Widen<F> = { [K in keyof F]: F[K] extends boolean ? boolean : string };

/**
 * useForm holds a form's values, named as the API names its fields (so
 * the API's errors show beside them), and runs its submission as a change.
 * field and check give a control its props; submit makes the form's
 * onSubmit. problem is the change's, else shown (a list a filter form
 * loads).
 */
export function useForm<V extends Values>(initial: V, shown?: Problem | null) {
  type F = Widen<V>;
  const [values, setValues] = useState(initial as unknown as F);
  const [busy, setBusy] = useState(false);
  const change = useChange();
  const problem = change.problem ?? shown ?? null;
  const set = (v: Partial<F>) => setValues((old) => ({ ...old, ...v }));
  return {
    values,
    set,
    change,
    problem,
    busy,
    names: Object.keys(initial),
    field: (name: KeysOf<F, string>) => ({ name, value: values[name] as string, onInput: (v: string) => set({ [name]: v } as Partial<F>), problem }),
    check: (name: KeysOf<F, boolean>) => ({ name, checked: values[name] as boolean, onChange: (v: boolean) => set({ [name]: v } as Partial<F>) }),
    /** submit runs f on the values; what is the message when it worked (or makes it from f's result), then runs after with the result. */
    submit:
      <T,>(f: (v: F) => Promise<T>, what: string | ((r: T) => string) = "", after?: (r: T) => void) =>
      async (e: Event) => {
        e.preventDefault();
        setBusy(true);
        let r: T | undefined;
        const ok = await change.run(async () => (r = await f(values)), what as string | ((r: unknown) => string));
        setBusy(false);
        if (ok) after?.(r as T);
      },
  };
}

/**
 * Form is a useForm's form: titled by a heading (or labelled by label),
 * its fields, the outcome (errors of fields it does not show, or the
 * message), and its submit button, off while the change runs.
 */
export function Form(p: {
  form: { names: string[]; change: { problem: Problem | null; done: string }; problem: Problem | null; busy: boolean };
  onSubmit: (e: Event) => void;
  submit: string;
  title?: string;
  label?: string;
  role?: "search";
  class?: string;
  children: ComponentChildren;
}) {
  const id = useID("form");
  const f = p.form;
  return (
    <form aria-labelledby={p.title ? id : undefined} aria-label={p.title ? undefined : p.label} role={p.role} class={p.class} onSubmit={p.onSubmit}>
      {p.title && <h3 id={id}>{p.title}</h3>}
      {p.children}
      <Outcome change={{ problem: f.problem, done: f.change.done }} shown={f.names} />
      <button type="submit" disabled={f.busy}>
        {p.submit}
      </button>
    </form>
  );
}

/**
 * Table lists the items of a loaded list (its problem, if it failed, above;
 * a list a filter form loads leaves it to the form) under a caption, a column per heading; cells gives an item's cells in
 * the columns' order; rowKey tells rows apart (by id unless told).
 */
export function Table<T>(p: {
  of: { data?: { items: T[] }; problem?: Problem | null };
  caption: string;
  columns: string[];
  cells: (r: T) => ComponentChildren[];
  rowKey?: (r: T) => string;
}) {
  const key = p.rowKey ?? ((r: T) => (r as { id: string }).id);
  return (
    <>
      <Problems problem={p.of.problem} />
      <table>
        <caption>{p.caption}</caption>
        <thead>
          <tr>
            {p.columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {p.of.data?.items.map((r) => (
            <tr key={key(r)}>
              {p.cells(r).map((c, i) => (
                <td key={i}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** usePages walks a list's pages by cursor: the cursor of the page shown, back to the first, and the controls to go on or back. */
export function usePages() {
  const [before, setBefore] = useState<string[]>([]); // the cursors of the pages before
  const [cursor, setCursor] = useState<string | undefined>();
  return {
    cursor,
    first: () => (setBefore([]), setCursor(undefined)),
    /** controls are the previous and next buttons; next is the list's next_cursor. */
    controls: (next?: string | null) => (
      <div class="row">
        <button type="button" disabled={before.length === 0} onClick={() => (setCursor(before[before.length - 1] || undefined), setBefore(before.slice(0, -1)))}>
          Previous page
        </button>
        <button type="button" disabled={!next} onClick={() => (setBefore([...before, cursor ?? ""]), setCursor(next ?? undefined))}>
          Next page
        </button>
      </div>
    ),
  };
}
