import { describe, expect, it } from "vitest";
import { cronPattern, cronProblem } from "../../steps/core/cron.js";

// The cases follow robfig/cron v3's ParseStandard (what Argo v3.7 validates CronWorkflow
// schedules with) and its parser_test.go.
const accepted = [
  "*/10 * * * *",
  "0 3 * * *",
  "5,10-20/5 0-23/2 1-31 1-12 0-6",
  "0 0 1 jan-dec mon-FRI",
  "? * ? * ?",
  "0 9 * * 1-5",
  "0 0 * * sun",
  "@hourly",
  "@yearly",
  "@annually",
  "@midnight",
  "@every 10m",
  "@every 1h30m",
  "@every 1.5h",
  "TZ=Europe/Berlin 0 3 * * *",
  "CRON_TZ=UTC @daily",
  "  0  3 * *  *  ",
];
const rejected: Array<[string, string]> = [
  ["every 10 minutes", "has 3 fields"],
  ["", "is empty"],
  ["*/10 * * *", "has 4 fields"],
  ["0 */10 * * * *", "has 6 fields"],
  ["60 * * * *", "60 is above the maximum 59"],
  ["* 24 * * *", "24 is above the maximum 23"],
  ["* * 0 * *", "0 is below the minimum 1"],
  ["* * * 13 *", "13 is above the maximum 12"],
  ["* * * * 7", "7 is above the maximum 6"],
  ["*/0 * * * *", "step must be a positive number"],
  ["10-5 * * * *", "range starts (10) after it ends (5)"],
  ["1-2-3 * * * *", "too many hyphens"],
  ["*/2/3 * * * *", "too many slashes"],
  ["x * * * *", `"x" is not a number`],
  ["* * * foo *", `"foo" is not a number`],
  ["@every", "unknown descriptor"],
  ["@every ten", "needs a Go duration"],
  ["@weekdays", "unknown descriptor"],
  ["TZ=Mars/Olympus 0 3 * * *", "unknown time zone"],
];

describe("cron schedules with Argo's semantics", () => {
  it.each(accepted)("accepts %j", (s) => {
    expect(cronProblem(s)).toBeUndefined();
  });
  it.each(rejected)("rejects %j: %s", (s, fragment) => {
    expect(cronProblem(s)).toContain(fragment);
  });
  it("the JSON Schema pattern accepts every accepted schedule and rejects the wrong shapes", () => {
    const re = new RegExp(cronPattern);
    for (const s of accepted) expect(re.test(s), s).toBe(true);
    for (const s of ["every 10 minutes", "", "*/10 * * *", "0 */10 * * * *", "@weekdays"])
      expect(re.test(s), s).toBe(false);
  });
});
