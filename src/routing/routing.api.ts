/** What other modules use of routing besides RoutingService: catalog entries, candidates and strategies. */
export type { ModelEntry } from './catalog';
export type { Candidate, Strategy } from './strategies';
export { parseStrategy, STRATEGIES } from './strategies';
