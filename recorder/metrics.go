package recorder

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callrec/callrec"
)

// metrics are the recorder's Prometheus metrics. Packet counts are not
// counted per packet here: they are summed from the aligner's per-stream
// counters when scraped, plus the totals of finished sessions.
type metrics struct {
	srv      *Server
	started  prometheus.Counter
	ended    *prometheus.CounterVec
	rejected *prometheus.CounterVec

	parseErrors atomic.Uint64 // SIP messages the stack could not parse

	mu       sync.Mutex
	finished callrec.StreamStats
}

func newMetrics(s *Server) *metrics {
	return &metrics{
		srv: s,
		started: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callrec_siprec_sessions_started_total", Help: "SIPREC recording sessions answered.",
		}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callrec_siprec_sessions_ended_total", Help: "SIPREC recording sessions ended, by end reason.",
		}, []string{"reason"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callrec_siprec_invites_rejected_total", Help: "SIPREC INVITEs refused, by SIP status code.",
		}, []string{"code"}),
	}
}

func (m *metrics) register(r prometheus.Registerer) error {
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "callrec_siprec_sessions_active", Help: "SIPREC recording sessions in progress.",
	}, func() float64 { return float64(m.srv.activeCount()) })
	parseErrors := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "callrec_sip_malformed_messages_total", Help: "SIP messages dropped because they could not be parsed.",
	}, func() float64 { return float64(m.parseErrors.Load()) })
	freePorts := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "callrec_rtp_port_pairs_free", Help: "RTP/RTCP port pairs of --rtp-ports not in use.",
	}, func() float64 { return float64(m.srv.ports.free()) })
	for _, c := range []prometheus.Collector{m.started, m.ended, m.rejected, active, freePorts, parseErrors, m} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

var packetsDesc = prometheus.NewDesc("callrec_rtp_packets_total",
	"RTP packets of SIPREC streams, by outcome.", []string{"outcome"}, nil)

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) { ch <- packetsDesc }

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	t := m.finished
	m.mu.Unlock()
	m.srv.mu.Lock()
	list := make([]*session, 0, len(m.srv.sessions))
	for _, ss := range m.srv.sessions {
		list = append(list, ss)
	}
	m.srv.mu.Unlock()
	for _, ss := range list {
		ss.mu.Lock()
		for _, st := range ss.streams {
			if st.mx != nil {
				s := st.mx.Stats()
				s.Dropped += st.foreign.Load()
				addStats(&t, s)
			}
		}
		ss.mu.Unlock()
	}
	for outcome, v := range map[string]uint64{
		"received": t.Received, "lost": t.Lost, "duplicated": t.Duplicated, "late": t.Late, "dropped": t.Dropped,
	} {
		ch <- prometheus.MustNewConstMetric(packetsDesc, prometheus.CounterValue, float64(v), outcome)
	}
}

func (m *metrics) addFinished(streams []callrec.Stream) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range streams {
		addStats(&m.finished, s.Stats)
	}
}

func addStats(t *callrec.StreamStats, s callrec.StreamStats) {
	t.Received += s.Received
	t.Lost += s.Lost
	t.Duplicated += s.Duplicated
	t.Late += s.Late
	t.Dropped += s.Dropped
}
