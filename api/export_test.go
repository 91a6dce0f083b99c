package api

// RouteInfo is a route as the access table shows it.
type RouteInfo struct {
	Pattern, Access, Scope string
	Page                   bool
}

// Routes lists s's routes with who may call them.
func (s *Server) Routes() []RouteInfo {
	var out []RouteInfo
	for _, rt := range s.routeTable() {
		out = append(out, RouteInfo{rt.pattern, rt.access.String(), rt.scope, rt.page})
	}
	return out
}
