/**
 * Typed contracts shared by both sides: which calls the server serves, which pushes it sends, and
 * which calls the client serves (server → client). Schemas are any Standard Schema validator
 * (zod, valibot, arktype …), so the validator is the user's dependency, not ours.
 */
import { Code, codeError } from './status.ts';
import type { CallHandler } from './router.ts';

/** The Standard Schema v1 interface (https://standardschema.dev), inlined so we depend on nothing. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
      }>;
    };

export type Schema = StandardSchemaV1;
export type InputOf<S> = S extends StandardSchemaV1<infer I, unknown> ? I : unknown;
export type OutputOf<S> = S extends StandardSchemaV1<unknown, infer O> ? O : unknown;

export interface CallSpec {
  input: Schema;
  output: Schema;
}

export type ContractSection = 'calls' | 'pushes' | 'client' | 'topics';

/**
 * The validator of one message by the contract: of a push or topic message, or of a call's `part`;
 * undefined where the contract has no schema for it. It rejects with 400 naming the failing paths.
 */
export type ContractCheck = (
  section: ContractSection,
  name: string,
  part?: 'input' | 'output',
) => ((value: unknown) => Promise<unknown>) | undefined;

export interface Contract<
  Calls extends Record<string, CallSpec> = Record<string, CallSpec>,
  Pushes extends Record<string, Schema> = Record<string, Schema>,
  ClientCalls extends Record<string, CallSpec> = Record<string, CallSpec>,
  Topics extends Record<string, Schema> = Record<string, Schema>,
> {
  readonly calls: Calls;
  readonly pushes: Pushes;
  readonly client: ClientCalls;
  /** Topics the endpoint publishes (subscribe / publish), by name, with their message schema. */
  readonly topics: Topics;
  /**
   * Validates a message against this contract (made by `contract()`). The client validates through
   * it, so that an app without a contract does not ship the validation code.
   */
  readonly check: ContractCheck;
}

/** Declares a contract; sections left out are empty. */
export function contract<
  const Calls extends Record<string, CallSpec> = Record<never, CallSpec>,
  const Pushes extends Record<string, Schema> = Record<never, Schema>,
  const ClientCalls extends Record<string, CallSpec> = Record<never, CallSpec>,
  const Topics extends Record<string, Schema> = Record<never, Schema>,
>(c: { calls?: Calls; pushes?: Pushes; client?: ClientCalls; topics?: Topics }): Contract<Calls, Pushes, ClientCalls, Topics> {
  const made: Contract<Calls, Pushes, ClientCalls, Topics> = {
    calls: c.calls ?? ({} as Calls),
    pushes: c.pushes ?? ({} as Pushes),
    client: c.client ?? ({} as ClientCalls),
    topics: c.topics ?? ({} as Topics),
    check: (section, name, part) => {
      const spec = specOf(made, section as 'calls', name);
      const schema = part ? spec?.[part] : (spec as Schema | undefined);
      return schema && ((value) => validate(schema, value, `${CHECKED[part ?? section]} ${name}`));
    },
  };
  return made;
}

/** What a failed check says it was checking (a call's input is the client's route input, its output a reply). */
const CHECKED: Record<string, string> = { pushes: 'push', topics: 'message of topic', input: 'input of', output: 'reply of' };

/** The type parameter of a client or endpoint built without a contract: everything untyped. */
export interface Untyped {
  readonly untyped: true;
}

export type AnyContract = Contract | Untyped;

type CallsOf<C, K extends 'calls' | 'client'> = C extends Contract ? C[K] : never;

/** Method names callable on the server (`string` when untyped). */
export type CallName<C> = C extends Contract ? keyof C['calls'] & string : string;
/** What the caller sends to a server call. */
export type CallInput<C, M> = C extends Contract
  ? M extends keyof C['calls']
    ? InputOf<CallsOf<C, 'calls'>[M]['input']>
    : never
  : unknown;
/** What the caller gets back. */
export type CallOutput<C, M> = C extends Contract
  ? M extends keyof C['calls']
    ? OutputOf<CallsOf<C, 'calls'>[M]['output']>
    : never
  : unknown;
/** What a server handler receives (after validation). */
export type HandlerInput<C, M> = C extends Contract
  ? M extends keyof C['calls']
    ? OutputOf<CallsOf<C, 'calls'>[M]['input']>
    : never
  : unknown;
/** What a server handler returns. */
export type HandlerOutput<C, M> = C extends Contract
  ? M extends keyof C['calls']
    ? InputOf<CallsOf<C, 'calls'>[M]['output']>
    : never
  : unknown;

export type PushName<C> = C extends Contract ? keyof C['pushes'] & string : string;
export type PushPayload<C, M> = C extends Contract ? (M extends keyof C['pushes'] ? OutputOf<C['pushes'][M]> : never) : unknown;
export type PushInput<C, M> = C extends Contract ? (M extends keyof C['pushes'] ? InputOf<C['pushes'][M]> : never) : unknown;

/** A topic key ending in `*` names a family: every name under that prefix (`'/room/*'` → `/room/${string}`). */
type Names<K> = K extends `${infer P}*` ? K | `${P}${string}` : K;
/** The contract key of topic `M`: its own, else the family it falls under. */
type TopicKey<T, M> = M extends keyof T ? M : { [K in keyof T & string]: M extends Names<K> ? K : never }[keyof T & string];
export type TopicName<C> = C extends Contract ? Names<keyof C['topics'] & string> : string;
/** What a subscriber receives. */
export type TopicPayload<C, M> = C extends Contract ? OutputOf<C['topics'][TopicKey<C['topics'], M>]> : unknown;
/** What a publisher sends. */
export type TopicInput<C, M> = C extends Contract ? InputOf<C['topics'][TopicKey<C['topics'], M>]> : unknown;

export type ClientCallName<C> = C extends Contract ? keyof C['client'] & string : string;
export type ClientCallInput<C, M> = C extends Contract
  ? M extends keyof C['client']
    ? InputOf<CallsOf<C, 'client'>[M]['input']>
    : never
  : unknown;
export type ClientCallOutput<C, M> = C extends Contract
  ? M extends keyof C['client']
    ? OutputOf<CallsOf<C, 'client'>[M]['output']>
    : never
  : unknown;
export type ClientHandlerInput<C, M> = C extends Contract
  ? M extends keyof C['client']
    ? OutputOf<CallsOf<C, 'client'>[M]['input']>
    : never
  : unknown;
export type ClientHandlerOutput<C, M> = C extends Contract
  ? M extends keyof C['client']
    ? InputOf<CallsOf<C, 'client'>[M]['output']>
    : never
  : unknown;

/**
 * Validates `value`; resolves with the schema's output or throws a DrpcError with `code`
 * (400 for inputs, 500 for a server's own bad output) whose message lists every failing path.
 */
export async function validate(schema: Schema | undefined, value: unknown, what: string, code: number = Code.BadMessage): Promise<unknown> {
  if (!schema) return value;
  const result = await schema['~standard'].validate(value);
  if (!result.issues) return result.value;
  const details = result.issues
    .map((i) => {
      const path = (i.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
  throw codeError(code, `invalid ${what}: ${details}`);
}

/** The schemas of a call (or the schema of a push or topic) by name, or undefined when untyped. */
export function specOf(c: AnyContract | undefined, section: 'calls' | 'client', name: string): CallSpec | undefined;
export function specOf(c: AnyContract | undefined, section: 'pushes' | 'topics', name: string): Schema | undefined;
export function specOf(c: AnyContract | undefined, section: ContractSection, name: string): CallSpec | Schema | undefined {
  const specs: Record<string, CallSpec | Schema> | undefined = c && (c as Contract)[section];
  if (!specs) return undefined;
  if (Object.hasOwn(specs, name)) return specs[name];
  // A topic family ('/room/*'): the longest prefix that `name` starts with.
  let family = '';
  for (const k in specs) if (k.endsWith('*') && k.length > family.length && name.startsWith(k.slice(0, -1))) family = k;
  return family ? specs[family] : undefined;
}

/**
 * A CALL handler whose input is checked against `spec` first (400 naming the problem), and with
 * `checkOutput` its result too (500): the endpoint's routes with a contract. `handler` itself without a spec.
 */
export function validatedHandler(
  serviceMethod: string,
  handler: CallHandler,
  spec: CallSpec | undefined,
  checkOutput?: boolean,
): CallHandler {
  if (!spec) return handler;
  return async (body, ctx) => {
    const out = await handler(await validate(spec.input, body, `input of ${serviceMethod}`), ctx);
    return checkOutput ? validate(spec.output, out, `output of ${serviceMethod}`, Code.InternalServerError) : out;
  };
}
