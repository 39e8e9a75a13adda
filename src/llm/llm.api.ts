/**
 * What the gateway shares with the routes that speak other contracts (the compat module): the chat use
 * case and how a chat is answered, the estimate, the request context and the per-provider statistics.
 */
export { ChatUseCase, chatCommand } from './chat.usecase';
export type { ChatCommand, ChatOutcome } from './chat.usecase';
export { replyChat } from './chat-reply';
export { SERVED_HEADERS_DOC } from './reply';
export type { ChatExchange } from './chat-reply';
export { EstimateUseCase } from './estimate.usecase';
export type { EstimateQuery, Quote, QuotedCandidate } from './estimate.usecase';
export { RequestContext } from './request-context';
export { LlmStats } from './llm-stats';
export type { ProviderStats } from './llm-stats';
