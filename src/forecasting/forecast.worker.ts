/**
 * Worker-thread entry: runs a chunk of forecasts off the event loop. Each task succeeds or fails on
 * its own, so one bad series never costs the others their results.
 */
import { runForecast, type ForecastOutcome, type ForecastTask } from './engines/run';

export type WorkerResult = { ok: true; outcome: ForecastOutcome } | { ok: false; message: string };

export default function runChunk(tasks: ForecastTask[]): WorkerResult[] {
  return tasks.map((task) => {
    try {
      return { ok: true, outcome: runForecast(task) };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  });
}
