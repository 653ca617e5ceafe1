import { stepMain } from "../runtime/runtime.js";
import { registry } from "../kinds/registry.js";

stepMain("wait-deps", registry);
