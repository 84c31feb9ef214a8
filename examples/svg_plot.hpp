// SPDX-License-Identifier: Apache-2.0
// A labelled scatter plot written as a standalone SVG, so the demo can draw its accuracy-vs-size
// chart without Python. Deliberately small: one series of labelled points, linear or log x axis.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace pare_examples {

struct PlotPoint {
  std::string label;
  double x = 0;
  double y = 0;
};

struct PlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;
};

inline std::string svg_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '<')
      r += "&lt;";
    else if (c == '>')
      r += "&gt;";
    else if (c == '&')
      r += "&amp;";
    else
      r += c;
  }
  return r;
}

inline std::string svg_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Writes the chart to `path`; returns false when the file cannot be written.
inline bool write_scatter_svg(const std::string& path, const std::vector<PlotPoint>& points,
                              const PlotOptions& opt) {
  if (points.empty()) return false;
  constexpr double width = 720, height = 440, left = 70, right = 200, top = 40, bottom = 60;
  auto fx = [&](double x) { return opt.log_x ? std::log10(x) : x; };
  double x0 = fx(points[0].x), x1 = x0, y0 = points[0].y, y1 = y0;
  for (const auto& p : points) {
    x0 = std::min(x0, fx(p.x));
    x1 = std::max(x1, fx(p.x));
    y0 = std::min(y0, p.y);
    y1 = std::max(y1, p.y);
  }
  const double xpad = std::max((x1 - x0) * 0.08, 0.05), ypad = std::max((y1 - y0) * 0.15, 0.5);
  x0 -= xpad;
  x1 += xpad;
  y0 -= ypad;
  y1 += ypad;
  const double pw = width - left - right, ph = height - top - bottom;
  auto px = [&](double x) { return left + (fx(x) - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * ph; };

  std::ofstream out(path);
  if (!out) return false;
  out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' font-family='sans-serif' font-size='12'>\n"
      << "<rect width='100%' height='100%' fill='white'/>\n"
      << "<text x='" << width / 2 << "' y='22' text-anchor='middle' font-size='15'>"
      << svg_escape(opt.title) << "</text>\n"
      << "<rect x='" << left << "' y='" << top << "' width='" << pw << "' height='" << ph
      << "' fill='none' stroke='#444'/>\n";
  // Five ticks per axis; on a log axis they sit at powers of ten when the range allows.
  for (int i = 0; i <= 4; ++i) {
    const double yv = y0 + (y1 - y0) * i / 4;
    out << "<line x1='" << left << "' x2='" << left + pw << "' y1='" << svg_number(py(yv))
        << "' y2='" << svg_number(py(yv)) << "' stroke='#ddd'/>\n"
        << "<text x='" << left - 6 << "' y='" << svg_number(py(yv) + 4) << "' text-anchor='end'>"
        << svg_number(yv) << "</text>\n";
    const double xt = x0 + (x1 - x0) * i / 4;
    const double xv = opt.log_x ? std::pow(10.0, xt) : xt;
    out << "<text x='" << svg_number(left + pw * i / 4) << "' y='" << top + ph + 18
        << "' text-anchor='middle'>" << static_cast<long long>(std::llround(xv)) << "</text>\n";
  }
  out << "<text x='" << left + pw / 2 << "' y='" << height - 18 << "' text-anchor='middle'>"
      << svg_escape(opt.x_label) << "</text>\n"
      << "<text transform='translate(18," << top + ph / 2 << ") rotate(-90)' text-anchor='middle'>"
      << svg_escape(opt.y_label) << "</text>\n";
  const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const char* c = colors[i % 10];
    out << "<circle cx='" << svg_number(px(p.x)) << "' cy='" << svg_number(py(p.y))
        << "' r='5' fill='" << c << "'/>\n"
        << "<circle cx='" << width - right + 16 << "' cy='" << top + 8 + 18 * i << "' r='5' fill='"
        << c << "'/>\n"
        << "<text x='" << width - right + 26 << "' y='" << top + 12 + 18 * i << "'>"
        << svg_escape(p.label) << "</text>\n";
  }
  out << "</svg>\n";
  return static_cast<bool>(out);
}

}  // namespace pare_examples
