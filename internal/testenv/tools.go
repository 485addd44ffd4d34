package testenv

import (
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/segmentio/kafka-go"
)

// CreateTopic creates topic with the given number of partitions (one
// replica) through the cluster's controller, as tests, the benchmark and
// the soak need before they produce.
func CreateTopic(broker, topic string, partitions int) error {
	cc, err := dialController(broker)
	if err != nil {
		return err
	}
	defer cc.Close()
	return cc.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1})
}

// dialController connects to the cluster's controller, which topic
// creation and deletion must go to, found through broker.
func dialController(broker string) (*kafka.Conn, error) {
	conn, err := kafka.Dial("tcp", broker)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctrl, err := conn.Controller()
	if err != nil {
		return nil, err
	}
	return kafka.Dial("tcp", net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)))
}

// ResidentBytes returns the resident memory of process pid, read from
// /proc/<pid>/statm, or 0 where it cannot be read; the benchmark and the
// soak sample the ingester with it.
func ResidentBytes(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
