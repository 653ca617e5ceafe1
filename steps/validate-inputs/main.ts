import { stepMain } from "../runtime/runtime.js";
import { kinds } from "../kinds/registry.js";

stepMain("validate-inputs", kinds);
