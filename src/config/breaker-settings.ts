import { IsIntIn, IsNumberIn } from './validation';

/**
 * Bounds of every circuit breaker's settings: a provider instance's and a remote ML worker's `breaker:`
 * mapping, and the FORECAST_REMOTE_* breaker variables. An hour caps the timers (opossum keeps them in
 * setTimeout) and a million calls the volume.
 */
export const BREAKER_BOUNDS = {
  error_threshold_percentage: { min: 1, max: 100 },
  volume_threshold: { min: 0, max: 1_000_000 },
  reset_timeout_ms: { min: 10, max: 3_600_000 },
  rolling_window_ms: { min: 100, max: 3_600_000 },
} as const;

const { error_threshold_percentage, volume_threshold, reset_timeout_ms, rolling_window_ms } = BREAKER_BOUNDS;

/** When a circuit breaker opens and for how long; a key left out keeps its default. */
export class BreakerSettings {
  /** Percentage of failed calls in the rolling window that opens the breaker. */
  @IsNumberIn(error_threshold_percentage.min, error_threshold_percentage.max)
  error_threshold_percentage = 50;

  /** How long the breaker stays open before a half-open trial call. */
  @IsIntIn(reset_timeout_ms.min, reset_timeout_ms.max)
  reset_timeout_ms = 10_000;

  /** Calls needed in the window before the breaker may open. */
  @IsIntIn(volume_threshold.min, volume_threshold.max)
  volume_threshold = 5;

  /** Length of the rolling statistics window. */
  @IsIntIn(rolling_window_ms.min, rolling_window_ms.max)
  rolling_window_ms = 10_000;
}
