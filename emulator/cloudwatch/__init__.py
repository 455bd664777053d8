"""CloudWatch for the emulator's endpoints: per-period metrics from real invocations
(`models`), alarms evaluated on them (`alarms`), and GetMetricData/GetMetricStatistics
answered from them (`responses`). moto keeps the alarms' definitions and their states."""
