// Package scheduler sends messages to actors later or repeatedly (the k8s
// provider uses it to poll).
//
//	s := scheduler.NewTimerScheduler(ctx); cancel := s.SendRepeatedly(d, d, pid, msg)
package scheduler
