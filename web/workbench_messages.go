package web

// The coordinators' workbench texts (issue 14) and the public price
// headline, merged into the catalogues.
func init() {
	for lang, m := range map[string]map[string]string{
		"da": {
			"price.at_threshold": "Hvis området når %s: ca. %s pr. husstand",
			"price.curve":        "Prisen pr. husstand falder fra %s ved %s tilslutning til %s, hvis alle er med.",
		},
		"en": {
			"price.at_threshold": "If the area reaches %s: about %s per household",
			"price.curve":        "The price per household falls from %s at %s take-up to %s if everyone joins.",
		},
	} {
		for k, v := range m {
			catalogues[lang][k] = v
		}
	}
}
