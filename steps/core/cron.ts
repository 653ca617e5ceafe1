import * as z from "./zod.js";

// Argo Workflows (v3.7, workflow/validate and workflow/cron) parses every CronWorkflow
// schedule with robfig/cron v3's ParseStandard: five fields (minute hour day-of-month month
// day-of-week), or a descriptor (@hourly, @every 1h30m, …), optionally after TZ=<zone> or
// CRON_TZ=<zone>. This is the same grammar, so lint rejects exactly what Argo would reject
// when the CronWorkflow is applied, before anything is rendered or synced.

interface Bounds {
  name: string;
  min: number;
  max: number;
  names?: Record<string, number>;
}

const months: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};
const weekdays: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const fields: Bounds[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: months },
  { name: "day of week", min: 0, max: 6, names: weekdays },
];
const descriptors = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
// Go's time.ParseDuration, which `@every <duration>` uses.
const goDuration = /^[-+]?(0|((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

/** Why Argo would reject this schedule, or undefined when it parses. */
export function cronProblem(schedule: string): string | undefined {
  let spec = schedule;
  if (spec === "") return "is empty";
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const space = spec.indexOf(" ");
    if (space < 0) return "names a time zone (TZ=…) but no schedule after it";
    const zone = spec.slice(spec.indexOf("=") + 1, space);
    if (!isTimeZone(zone)) return `names an unknown time zone "${zone}"`;
    spec = spec.slice(space).trim();
  }
  if (spec.startsWith("@")) {
    if (descriptors.includes(spec)) return undefined;
    if (spec.startsWith("@every ")) {
      return goDuration.test(spec.slice("@every ".length))
        ? undefined
        : `"${spec}" needs a Go duration after @every, e.g. @every 10m or @every 1h30m`;
    }
    return `unknown descriptor "${spec}"; Argo knows ${descriptors.join(", ")} and @every <duration>`;
  }
  const parts = spec.split(/\s+/).filter(Boolean);
  if (parts.length !== 5) {
    return `has ${parts.length} field${parts.length === 1 ? "" : "s"}; a cron schedule has 5 (minute hour day-of-month month day-of-week, e.g. "*/10 * * * *") or is a descriptor such as @hourly`;
  }
  for (const [i, part] of parts.entries()) {
    const problem = fieldProblem(part, fields[i]!);
    if (problem) return `${fields[i]!.name} field "${part}": ${problem}`;
  }
  return undefined;
}

function fieldProblem(field: string, b: Bounds): string | undefined {
  for (const expr of field.split(",").filter(Boolean)) {
    const rangeAndStep = expr.split("/");
    const lowAndHigh = rangeAndStep[0]!.split("-");
    let start: number;
    let end: number;
    if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
      start = b.min;
      end = b.max;
    } else {
      const s = intOrName(lowAndHigh[0]!, b);
      if (typeof s === "string") return s;
      start = end = s;
      if (lowAndHigh.length === 2) {
        const e = intOrName(lowAndHigh[1]!, b);
        if (typeof e === "string") return e;
        end = e;
      } else if (lowAndHigh.length > 2) return `too many hyphens in "${expr}"`;
    }
    let step = 1;
    if (rangeAndStep.length === 2) {
      const s = nonNegativeInt(rangeAndStep[1]!);
      if (typeof s === "string") return s;
      step = s;
      if (lowAndHigh.length === 1) end = b.max;
    } else if (rangeAndStep.length > 2) return `too many slashes in "${expr}"`;
    if (start < b.min) return `${start} is below the minimum ${b.min}`;
    if (end > b.max) return `${end} is above the maximum ${b.max}`;
    if (start > end) return `range starts (${start}) after it ends (${end})`;
    if (step === 0) return `a step must be a positive number`;
  }
  return undefined;
}

function intOrName(s: string, b: Bounds): number | string {
  const named = b.names?.[s.toLowerCase()];
  return named ?? nonNegativeInt(s);
}

// strconv.Atoi: optional sign, then decimal digits.
function nonNegativeInt(s: string): number | string {
  if (!/^[-+]?\d+$/.test(s)) return `"${s}" is not a number`;
  const n = Number(s);
  return n < 0 ? `negative number ${n} is not allowed` : n;
}

/** A zone Go's time.LoadLocation knows: UTC, Local, or an IANA name. */
export function isTimeZone(zone: string): boolean {
  if (zone === "UTC" || zone === "Local" || zone === "") return true;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// What JSON Schema can say of the same grammar (values.schema.json, so helm rejects the
// obvious cases too): a descriptor, or five fields of cron characters.
const cronField = "[0-9A-Za-z*?,/+-]+";
export const cronPattern = `^\\s*((CRON_)?TZ=\\S+\\s+)?(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every \\S+|${cronField}(\\s+${cronField}){4})\\s*$`;

export const cronSchedule = z.string().check(
  z.superRefine((s, ctx) => {
    const problem = cronProblem(s);
    if (problem) ctx.addIssue({ code: "custom", message: `is not a cron schedule Argo accepts: ${problem}` });
  }),
  z.meta({ pattern: cronPattern }),
);

export const timeZone = z
  .string()
  .check(
    z.minLength(1),
    z.refine(isTimeZone, "is not a time zone Argo knows (an IANA name such as Europe/Berlin, or UTC)"),
  );

// When a schedule fires next, for `reseed status`: the same grammar as cronProblem, read as
// robfig/cron does (a restricted day of month OR a restricted day of week; descriptors as
// their five fields). `@every` has no wall-clock ticks: it fires an interval after the last run.
const descriptorFields: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

function fieldValues(field: string, b: Bounds): Set<number> {
  const out = new Set<number>();
  for (const expr of field.split(",").filter(Boolean)) {
    const [range, stepText] = expr.split("/");
    const [low, high] = range!.split("-");
    const all = low === "*" || low === "?";
    const start = all ? b.min : (intOrName(low!, b) as number);
    const end =
      all || (stepText !== undefined && high === undefined)
        ? b.max
        : high !== undefined
          ? (intOrName(high, b) as number)
          : start;
    const step = stepText === undefined ? 1 : Number(stepText);
    for (let v = start; v <= end; v += step) out.add(v);
  }
  return out;
}

const MINUTE_MS = 60_000;
const SEARCH_DAYS = 400; // past a year: a @yearly schedule, and Feb 29 most years

/** Local wall-clock fields of a moment in a time zone. */
function wallClock(
  zone: string,
): (ms: number) => { minute: number; hour: number; day: number; month: number; weekday: number } {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone === "Local" || zone === "" ? undefined : zone,
    hourCycle: "h23",
    minute: "numeric",
    hour: "numeric",
    day: "numeric",
    month: "numeric",
    weekday: "short",
  });
  return (ms) => {
    const parts = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
    return {
      minute: Number(parts.minute),
      hour: Number(parts.hour),
      day: Number(parts.day),
      month: Number(parts.month),
      weekday: weekdays[String(parts.weekday).toLowerCase()]!,
    };
  };
}

/**
 * The first moments after `after` (ms) at which a schedule Argo accepts fires, in `zone`
 * (a TZ= prefix wins), or [] for `@every` and schedules that do not fire within a year.
 */
export function nextTicks(schedule: string, zone: string, after: number, count = 1): number[] {
  let spec = schedule.trim();
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    zone = spec.slice(spec.indexOf("=") + 1, spec.indexOf(" "));
    spec = spec.slice(spec.indexOf(" ")).trim();
  }
  spec = descriptorFields[spec] ?? spec;
  if (spec.startsWith("@")) return [];
  const parts = spec.split(/\s+/);
  const [minutes, hours, days, monthSet, weekdaySet] = parts.map((p, i) => fieldValues(p, fields[i]!));
  const anyDay = parts[2]!.startsWith("*") || parts[2]!.startsWith("?");
  const anyWeekday = parts[4]!.startsWith("*") || parts[4]!.startsWith("?");
  const clock = wallClock(zone);
  const out: number[] = [];
  let t = Math.floor(after / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const end = after + SEARCH_DAYS * 1440 * MINUTE_MS;
  while (t < end && out.length < count) {
    const c = clock(t);
    const dayMatches =
      anyDay || anyWeekday
        ? days!.has(c.day) && weekdaySet!.has(c.weekday)
        : days!.has(c.day) || weekdaySet!.has(c.weekday);
    if (!monthSet!.has(c.month) || !dayMatches)
      t += ((23 - c.hour) * 60 + (60 - c.minute)) * MINUTE_MS; // the next local day
    else if (!hours!.has(c.hour))
      t += (60 - c.minute) * MINUTE_MS; // the next local hour
    else {
      if (minutes!.has(c.minute)) out.push(t);
      t += MINUTE_MS;
    }
  }
  return out;
}
