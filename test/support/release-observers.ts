import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Performance observers started by a test file are disconnected when it ends. node:perf_hooks is one
 * module for the whole worker process, while each test file has its own module registry: an observer
 * left connected (prom-client's default metrics start one per registry, for GC durations, and have no
 * way to stop it) keeps its callback, and with it every module and application of the file, alive
 * for the rest of the worker's life. In production a process has one application, so this is a
 * concern of the test runner only.
 */
const observe = Object.getOwnPropertyDescriptor(PerformanceObserver.prototype, 'observe');
const started = new Set<PerformanceObserver>();

if (observe && typeof observe.value === 'function') {
  const original = observe.value as PerformanceObserver['observe'];
  Object.defineProperty(PerformanceObserver.prototype, 'observe', {
    ...observe,
    value: function (this: PerformanceObserver, ...args: Parameters<PerformanceObserver['observe']>) {
      started.add(this);
      return original.apply(this, args);
    },
  });
  afterAll(() => {
    Object.defineProperty(PerformanceObserver.prototype, 'observe', observe);
    for (const observer of started) observer.disconnect();
    started.clear();
  });
}
