/**
 * Evaluates a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) against one request, as the
 * API server does: the request must fit matchConstraints' resource rules and every matchCondition; then
 * the variables are computed in order and each validation must be true. An expression that fails
 * counts as a refusal, as failurePolicy Fail has it. The expressions run on @bufbuild/cel, a CEL
 * implementation checked against the CEL conformance tests. As in the API server, object, oldObject
 * and request are plain maps (the API server passes objects as unstructured JSON, integers as int64).
 */
import { isCelError, run, type CelInput } from '@bufbuild/cel';

type Json = Record<string, unknown>;

export interface AdmissionRequest {
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  /** A subresource (`resize` of pods/resize); a rule names it as `pods/resize`. */
  subResource?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  namespace: string;
  name: string;
  userInfo: { username: string; groups?: string[] };
  object: Json | null;
  oldObject: Json | null;
}

export interface PolicyDecision {
  /** Whether the policy applies to the request at all. */
  matched: boolean;
  /** The messages of the validations that refused it (empty: admitted). */
  refusals: string[];
}

interface ResourceRule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
}

interface PolicySpec {
  matchConstraints: { resourceRules: ResourceRule[] };
  matchConditions?: { name: string; expression: string }[];
  variables?: { name: string; expression: string }[];
  validations: { expression: string; message?: string }[];
}

/** JSON as the API server hands it to CEL: integers are int64 (bigint here), maps and lists as they are. */
function toCel(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value as CelInput;
}

const has = (list: string[], value: string) => list.includes('*') || list.includes(value);

function matchesRules(spec: PolicySpec, r: AdmissionRequest): boolean {
  return spec.matchConstraints.resourceRules.some(
    (rule) =>
      has(rule.apiGroups, r.resource.group) &&
      has(rule.apiVersions, r.resource.version) &&
      has(rule.operations, r.operation) &&
      has(rule.resources, r.subResource ? `${r.resource.resource}/${r.subResource}` : r.resource.resource),
  );
}

/** Evaluates one expression; a CEL error is returned as an Error. */
function evaluate(expression: string, bindings: Record<string, CelInput>): unknown {
  const result = run(expression, bindings);
  return isCelError(result) ? new Error(String(result.message ?? result)) : result;
}

export function evaluatePolicy(policy: Json, r: AdmissionRequest): PolicyDecision {
  const spec = policy.spec as PolicySpec;
  if (!matchesRules(spec, r)) return { matched: false, refusals: [] };
  const { object, oldObject, ...request } = r;
  const bindings: Record<string, CelInput> = { object: toCel(object), oldObject: toCel(oldObject), request: toCel(request) };
  for (const condition of spec.matchConditions ?? []) {
    const result = evaluate(condition.expression, bindings);
    if (result instanceof Error) return { matched: true, refusals: [`matchCondition ${condition.name} failed: ${result.message}`] };
    if (result !== true) return { matched: false, refusals: [] };
  }
  // Each variable sees the ones before it, as variables.<name>.
  const variables: Record<string, CelInput> = {};
  for (const variable of spec.variables ?? []) {
    const result = evaluate(variable.expression, { ...bindings, variables });
    if (result instanceof Error) return { matched: true, refusals: [`variable ${variable.name} failed: ${result.message}`] };
    variables[variable.name] = result as CelInput;
  }
  const refusals: string[] = [];
  for (const validation of spec.validations) {
    const result = evaluate(validation.expression, { ...bindings, variables });
    if (result instanceof Error) refusals.push(`failed (${result.message}): ${validation.message ?? validation.expression}`);
    else if (result !== true) refusals.push(validation.message ?? validation.expression);
  }
  return { matched: true, refusals };
}
