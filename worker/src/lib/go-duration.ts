// OpenAI's x-ratelimit-reset-* values are Go durations ("1s", "6m0s", "120ms", "1h2m3.5s"); this prints whole
// milliseconds the way Go's time.Duration.String() does.

const MS_PER_SECOND = 1_000;
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;

export function goDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return "0s";
  if (total < MS_PER_SECOND) return `${total}ms`;
  const hours = Math.floor(total / MS_PER_HOUR);
  const minutes = Math.floor((total % MS_PER_HOUR) / MS_PER_MINUTE);
  const millis = total % MS_PER_MINUTE;
  const whole = Math.floor(millis / MS_PER_SECOND);
  const fraction = String(millis % MS_PER_SECOND)
    .padStart(3, "0")
    .replace(/0+$/, "");
  const seconds = fraction ? `${whole}.${fraction}s` : `${whole}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}
