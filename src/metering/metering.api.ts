/** What other modules use of metering besides MeteringService: its value types and the ledger's USD format. */
export type { Cost, Prices } from './pricing';
export { usdString } from './pricing';
