import { stepMain } from "../core/runtime.js";
import { registry } from "../kinds/registry.js";

stepMain("wait-deps", registry);
