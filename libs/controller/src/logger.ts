// The libraries share one minimal logging interface (pino's call shape).
export { silentLogger, type LogSink as Logger } from "@navarch/config";
