export * from './errors';
export * from './tensors';
export * from './inference-host';
export * from './micro-batcher';
