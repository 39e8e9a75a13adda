import { annotateActiveSpan, type SpanRequest, tracingOn } from '../common/tracing/tracing';
import type { Cost } from '../metering/metering.api';
import type { Candidate } from '../routing/routing.api';
import type { Caller } from './caller';

/**
 * What a gateway request adds to its trace (tracing on only): each upstream attempt's span carries the
 * fallback attempt number and the project (the provider instance names and completes the span); the
 * request's server span carries the project, the attempt that served it, its instance and what it cost.
 */

/** The span each upstream attempt of fallback attempt `attempt` gets; undefined when tracing is off. */
export function attemptSpan(caller: Caller, attempt: number): SpanRequest | undefined {
  if (!tracingOn()) return undefined;
  return { name: 'attempt', attributes: { 'conflux.attempt': attempt, 'conflux.project.id': caller.projectId } };
}

/** Annotates the request's span once an attempt served it (with its bill, when known). */
export function servedBy(caller: Caller, candidate: Candidate, attempt: number, cost?: Cost): void {
  if (!tracingOn()) return;
  annotateActiveSpan({
    'conflux.project.id': caller.projectId,
    'conflux.attempt': attempt,
    'conflux.instance': candidate.instanceId,
    'gen_ai.request.model': candidate.model.name,
    ...(cost ? { 'conflux.credits': cost.credits } : {}),
  });
}
