package pgqueue_test

const drillWorkerEnv = "LADDER_PGQUEUE_DRILL_WORKER"

func runDrillWorker() int { return 0 }
