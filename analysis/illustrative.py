"""ILLUSTRATIVE parameters shared by the synthetic demo and the simulators: not measurements.

Country ideal points on the Inglehart-Welzel plane (x = self_expression, y = secular) follow the qualitative
picture of the published map: India and Brazil lower and further left (more traditional and survival) than France
and Italy; the United States comparatively traditional for a rich country but high on self-expression. As the
Community Alignment human study found, people differ more within a country than countries differ from each other,
so the within-country spread (s.d. per axis) is larger than the distances between the country points.
"""

from __future__ import annotations

from analysis.schema import COUNTRIES

# country -> (x, y, within-country spread, share of annotators)
COUNTRY_POSITIONS: dict[str, tuple[float, float, float, float]] = {
    COUNTRIES[0]: (0.45, -0.20, 0.60, 0.2),  # United States: self-expression, comparatively traditional
    COUNTRIES[1]: (0.45, 0.50, 0.60, 0.2),  # France: secular-rational, self-expression
    COUNTRIES[2]: (0.20, 0.30, 0.60, 0.2),  # Italy
    COUNTRIES[3]: (-0.45, -0.65, 0.60, 0.2),  # Brazil: traditional, survival
    COUNTRIES[4]: (-0.70, -0.80, 0.60, 0.2),  # India: the most traditional and survival of the five
}
